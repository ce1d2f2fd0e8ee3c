"""The demo clinic's waitlist (called by booking/demo.py's seed, in its transaction).

It shows: patients waiting for a first session (one for mornings only, who also
waits for a consultation), a time held for the
first waiting patient (its email shown as sent: the demo never emails), and an
offer the second let go.
Everything goes through booking/waitlist/services.py, so the demo keeps the
waitlist's rules. A second run adds nothing while the demo's entries exist.
"""

import contextlib
from datetime import timedelta

from django.db.models import QuerySet
from django.utils import timezone

from .. import selectors
from ..models import Patient, Reminder, Session, WaitlistEntry
from ..services import BookingError, online_agreement, patient_create
from . import matching
from .models import MORNING, FreedTime, Offer
from .services import Wish, entry_dates, entry_join, offer_decline, offer_make

WAITING = [  # email, name, phone, parts of the day
    ("demo.waiting.1@example.com", "Noor Demo-Patient", "07700 900301", None),
    ("demo.waiting.2@example.com", "Otto Demo-Patient", "07700 900302", None),
    ("demo.waiting.3@example.com", "Pam Demo-Patient", "07700 900303", MORNING),
]
DEMO_REASON = "Demo data: shown as sent; no email left the app."


def _patient(email: str, name: str, phone: str) -> Patient:
    from clinic.models import User

    user = User.objects.filter(email=email).first() or User.objects.create_user(email, None)
    return Patient.objects.filter(user=user).first() or patient_create(
        user=user, full_name=name, phone=phone
    )


def _join(patient, treatment, now, parts=None) -> WaitlistEntry:
    first, last = entry_dates(treatment=treatment, session=None, now=now)
    agreement = online_agreement(treatment)
    wish = Wish(date_from=first, date_to=min(last, first + timedelta(days=27)))
    if parts:
        wish = Wish(date_from=wish.date_from, date_to=wish.date_to, parts_of_day=parts)
    return entry_join(
        patient=patient,
        treatment=treatment,
        wish=wish,
        sessions=treatment.sessions_usual,
        answers=agreement["answers"],
        answers_version=treatment.questions_version,
        now=now,
    )


def _offer_shown_sent(entry: WaitlistEntry, now, *, skip: int = 0) -> Offer | None:
    """Hold a free time some days ahead for the entry, its email shown as sent now."""
    day = timezone.localdate() + timedelta(days=4)
    free = selectors.free_slots(
        treatment=entry.treatment,
        day_from=day,
        day_to=day + timedelta(days=6),
        now=now,
        patient=entry.patient,
    )
    for slot in free[skip:]:
        try:
            offer = offer_make(entry=entry, slot=slot, now=now, cause="Offered by hand (demo)")
        except BookingError:
            continue
        Reminder.objects.filter(session_id=offer.hold_id, kind=Reminder.Kind.OFFER).update(
            status=Reminder.Status.SENT, sent_at=now, reason=DEMO_REASON
        )
        Session.with_holds.filter(pk=offer.hold_id).update(
            held_until=matching.hold_expiry(slot.start, now)
        )
        return offer
    return None


def seed(*, treatment, consultation) -> QuerySet:
    entries = WaitlistEntry.objects.all()
    if entries.filter(patient__user__email__startswith="demo.waiting.").exists():
        return entries
    now = timezone.now()
    waiting = []
    for email, name, phone, parts in WAITING:
        try:
            waiting.append(_join(_patient(email, name, phone), treatment, now, parts))
        except BookingError:
            continue
    if consultation is not None and waiting:  # one waits for a consultation too
        with contextlib.suppress(BookingError):
            _join(waiting[-1].patient, consultation, now)
    if waiting:
        _offer_shown_sent(waiting[0], now)
    if len(waiting) > 1 and (let_go := _offer_shown_sent(waiting[1], now, skip=8)):
        offer_decline(offer=let_go, now=now)
    # The time the demo freed (its cancellations, the offer let go) is not offered again:
    # that would email demo patients. Time freed while you try the demo is.
    FreedTime.objects.filter(matched_at__isnull=True).update(matched_at=now)
    return entries
