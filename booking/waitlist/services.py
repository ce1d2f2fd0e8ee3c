"""Writes for the waitlist: entries, offers and their holds, and the sweep.

Every booking an offer leads to goes through booking/services/ (course_book,
session_move) with all their checks and emails. Locks are taken in the
booking services' order (practitioners, then the patient) before an offer's
row, so a cancellation and an accept never wait on each other in a circle.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext, ngettext

from education.models import Treatment

from .. import rulebook, selectors
from ..availability import Slot
from ..models import (
    BookingRules,
    ConsentText,
    Course,
    Patient,
    Practitioner,
    Reminder,
    ReminderSettings,
    Session,
)
from ..services import BookingError, SlotTaken, course_book, session_move
from ..services.checks import course_length_refusal, lock, slot_for
from . import hooks, matching
from .models import (
    ALL_DAY,
    EVERY_DAY,
    STALE_ANSWERS,
    FreedTime,
    Offer,
    WaitlistEntry,
    WaitlistSettings,
)

logger = logging.getLogger(__name__)
MOST_WAITING = 10  # entries one patient may have waiting at once
OFFERS_PER_FREED_TIME = 20  # a freed day (hours, a closure) is offered in up to this many holds
FREED_PER_SWEEP = 200


class OfferEnded(BookingError):
    """The offer is no longer open: accepted, declined, lapsed or withdrawn."""


@dataclass(frozen=True)
class Wish:
    """What a patient waits for: dates, days of the week (bits, Monday 1) and parts of the day."""

    date_from: date
    date_to: date
    weekdays: int = EVERY_DAY
    parts_of_day: int = ALL_DAY
    practitioner: Practitioner | None = None


def _wish_refusal(wish: Wish, *, first: date, last: date) -> str:
    if not 1 <= wish.weekdays <= EVERY_DAY:
        return gettext("Choose at least one day of the week.")
    if not 1 <= wish.parts_of_day <= ALL_DAY:
        return gettext("Choose at least one part of the day.")
    if wish.date_to < wish.date_from:
        return gettext("The last date must be on or after the first date.")
    if wish.date_from < first or wish.date_to > last:
        return gettext("Choose dates from %(first)s to %(last)s.") % {
            "first": f"{first:%-d %B %Y}",
            "last": f"{last:%-d %B %Y}",
        }
    return ""


def entry_dates(
    *,
    treatment: Treatment,
    session: Session | None,
    now: datetime,
    starts: dict[int, datetime] | None = None,
) -> tuple[date, date]:
    """The dates an entry may cover: from the first bookable day to the horizon, or for a
    booked session, the days it could move to and keep its course's windows, before its own.

    `starts`: the course's active sessions' number -> start, when already read (My
    appointments asks for every session of every course, with no query each)."""
    rules, zone = BookingRules.current(), selectors.clinic_zone()
    earliest, latest = selectors.bookable_bounds(now, rules)
    first, last = earliest.astimezone(zone).date(), latest.astimezone(zone).date()
    if session is None:
        return first, last
    if starts is None:
        starts = dict(
            Session.objects.active()
            .filter(course_id=session.course_id)
            .values_list("number", "start")
        )
    window = rulebook.move_window(
        starts.items(), session.number, rulebook.spacing_of(treatment), zone
    )
    last = session.start.astimezone(zone).date() - timedelta(days=1)
    if window is not None:
        first, last = max(first, window.first_day), min(last, window.last_day)
    return first, last


def _window_closes(session: Session | None) -> date | None:
    """For "mid-course first": the last day the session's window allows."""
    if session is None:
        return None
    starts = dict(
        Session.objects.active().filter(course_id=session.course_id).values_list("number", "start")
    )
    zone = selectors.clinic_zone()
    window = rulebook.window_after_previous(
        starts.items(), session.number, rulebook.spacing_of(session.course.treatment), zone
    )
    return window.last_day if window else session.start.astimezone(zone).date()


@transaction.atomic
def entry_join(
    *,
    patient: Patient,
    treatment: Treatment | None = None,
    wish: Wish,
    session: Session | None = None,
    sessions: int | None = None,
    answers: dict | None = None,
    answers_version: int | None = None,
    now: datetime | None = None,
) -> WaitlistEntry:
    """Join the waitlist for a first session of `treatment` (a course of `sessions`), or for
    an earlier time of the patient's booked `session`."""
    now = now or timezone.now()
    lock([], patient)
    if session is not None:
        session = Session.objects.select_related("course__treatment").filter(pk=session.pk).first()
        if session is None or session.patient_id != patient.pk:
            raise BookingError(gettext("That session could not be found."))
        if session.status != Session.Status.BOOKED or session.start <= now:
            raise BookingError(gettext("Only a booked session still to come can wait for a time."))
        treatment = session.course.treatment
    if treatment is None or not treatment.is_published:
        raise BookingError(gettext("Choose a treatment."))
    if session is None:
        course_length_refusal(treatment, sessions)
    if (
        wish.practitioner is not None
        and not wish.practitioner.treatments.filter(
            pk=treatment.pk, practitioners__is_active=True
        ).exists()
    ):
        raise BookingError(
            gettext("That practitioner does not offer %(treatment)s.")
            % {"treatment": treatment.name}
        )
    first, last = entry_dates(treatment=treatment, session=session, now=now)
    if first > last:
        raise BookingError(
            gettext("There is no earlier date this session could move to and keep its course.")
        )
    if refusal := _wish_refusal(wish, first=first, last=last):
        raise BookingError(refusal)
    waiting = patient.waitlist_entries.filter(status=WaitlistEntry.Status.WAITING)
    if session is not None and waiting.filter(session=session).exists():
        raise BookingError(gettext("This session is on the waitlist already."))
    if session is None and waiting.filter(treatment=treatment, session__isnull=True).exists():
        raise BookingError(
            gettext("You are on the waitlist for %(treatment)s already. Change that entry instead.")
            % {"treatment": treatment.name}
        )
    if waiting.count() >= MOST_WAITING:
        raise BookingError(
            ngettext(
                "You can wait for at most %(count)d time at once.",
                "You can wait for at most %(count)d times at once.",
                MOST_WAITING,
            )
            % {"count": MOST_WAITING}
        )
    entry = WaitlistEntry.objects.create(
        patient=patient,
        treatment=treatment,
        practitioner=wish.practitioner,
        session=session,
        sessions_wanted=None if session else sessions,
        answers={str(k): v for k, v in (answers or {}).items() if v in ("yes", "no")},
        answers_version=answers_version,
        date_from=wish.date_from,
        date_to=wish.date_to,
        weekdays=wish.weekdays,
        parts_of_day=wish.parts_of_day,
        window_closes=_window_closes(session),
    )
    logger.info("waitlist joined", extra={"entry_id": entry.pk})
    return entry


@transaction.atomic
def entry_change(*, entry: WaitlistEntry, wish: Wish, now: datetime | None = None) -> WaitlistEntry:
    """New dates, days, parts of the day or practitioner for a waiting entry."""
    now = now or timezone.now()
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))  # the session may be NULL
        .select_related("session")
        .get(pk=entry.pk)
    )
    if not entry.is_waiting:
        raise BookingError(gettext("This waitlist entry has ended."))
    first, last = entry_dates(treatment=entry.treatment, session=entry.session, now=now)
    if refusal := _wish_refusal(wish, first=first, last=last):
        raise BookingError(refusal)
    if (
        wish.practitioner is not None
        and not wish.practitioner.treatments.filter(pk=entry.treatment_id).exists()
    ):
        raise BookingError(gettext("That practitioner does not offer this treatment."))
    entry.date_from, entry.date_to = wish.date_from, wish.date_to
    entry.weekdays, entry.parts_of_day = wish.weekdays, wish.parts_of_day
    entry.practitioner = wish.practitioner
    entry.save()
    return entry


@transaction.atomic
def entry_leave(*, entry: WaitlistEntry, now: datetime | None = None) -> WaitlistEntry:
    """The patient leaves the waitlist; a live offer to them is withdrawn and handed on."""
    now = now or timezone.now()
    # The patient's row first, as offer_accept takes it before the offer and the entry:
    # otherwise leaving and accepting at once each wait for the other's row.
    lock([], entry.patient)
    entry = WaitlistEntry.objects.select_for_update().get(pk=entry.pk)
    if not entry.is_waiting:
        return entry
    hooks.offers_withdraw([entry.pk], reason="The patient left the waitlist.", now=now)
    entry.status, entry.ended_reason = WaitlistEntry.Status.LEFT, "Left by the patient."
    entry.save(update_fields=["status", "ended_reason", "updated_at"])
    return entry


@transaction.atomic
def offer_make(
    *,
    entry: WaitlistEntry,
    slot: Slot,
    now: datetime | None = None,
    cause: str = "",
    by=None,
    settings: tuple | None = None,
    planned: bool = False,
) -> Offer:
    """Hold `slot` for the entry's patient and queue the offer email (automatic, or staff
    `by` hand). Refused when the time is not free, breaks the patient's course rules, the
    patient has a live offer or had the day's number, or it is too late to take."""
    now = now or timezone.now()
    rules, config, quiet = settings or (
        BookingRules.current(),
        WaitlistSettings.current(),
        ReminderSettings.current(),
    )
    entry = WaitlistEntry.objects.select_related("treatment", "patient", "session").get(pk=entry.pk)
    slot = slot_for(slot.start, entry.treatment, slot.practitioner_id)
    lock([slot.practitioner_id], entry.patient)
    entry = (
        WaitlistEntry.objects.select_for_update(of=("self",))
        .select_related("treatment", "patient", "session")
        .get(pk=entry.pk)
    )
    if not entry.is_waiting:
        raise BookingError(gettext("This patient is no longer waiting."))
    if Offer.objects.live().filter(patient=entry.patient).exists():
        raise BookingError(gettext("This patient has an offer waiting for an answer already."))
    if (
        Offer.objects.filter(patient=entry.patient, created_at__gte=matching._midnight(now)).count()
        >= config.offers_per_day
    ):
        raise BookingError(gettext("This patient has had today's number of offers."))
    if entry.practitioner_id not in (None, slot.practitioner_id):
        raise BookingError(gettext("This patient asked for another practitioner."))
    # The rules again, under the locks (`planned`: the course was planned a moment ago).
    if refusal := matching.course_refusal(entry, slot, now, rules, plan=not planned):
        raise BookingError(refusal)
    practitioners = [
        p for p in selectors.practitioners_for(entry.treatment) if p.pk == slot.practitioner_id
    ]
    if not practitioners or not selectors.slot_is_free(
        slot,
        treatment=entry.treatment,
        practitioners=practitioners,
        patient=entry.patient,
        now=now,
        latest=slot.start,
        exclude_session_ids=[entry.session_id] if entry.session_id else (),
        rules=rules,
    ):
        raise SlotTaken(gettext("That time is not free."))
    due = matching.offer_due(now, quiet).astimezone(UTC)  # real hours from here (DST)
    held_until = matching.hold_expiry(slot.start, due, rules=rules, config=config)
    if held_until < due + matching.shortest_hold(config):
        raise BookingError(gettext("That time is too soon to offer: there is no time to answer."))
    try:
        with transaction.atomic():
            hold = Session.with_holds.create(
                patient=entry.patient,
                practitioner_id=slot.practitioner_id,
                number=entry.session.number if entry.session_id else 1,
                start=slot.start,
                end=slot.end,
                status=Session.Status.HELD,
                held_until=held_until,
            )
            offer = Offer.objects.create(
                entry=entry, patient=entry.patient, hold=hold, cause=cause[:100], offered_by=by
            )
            Reminder.objects.create(session=hold, kind=Reminder.Kind.OFFER, due_at=due)
    except IntegrityError as exc:
        raise SlotTaken(gettext("That time has just been taken.")) from exc
    logger.info("waitlist offer made", extra={"offer_id": offer.pk, "by_hand": by is not None})
    return offer


def _locked_offer(offer: Offer) -> Offer:
    return (
        Offer.objects.select_for_update(of=("self",))
        .select_related("hold", "entry__treatment", "entry__session", "patient")
        .get(pk=offer.pk)
    )


def offer_refusal(offer: Offer, now: datetime) -> str:
    """Why this offer cannot be accepted now ("" when it can)."""
    if offer.status == Offer.Status.HELD and offer.hold.held_until > now:
        return ""
    if offer.status == Offer.Status.ACCEPTED:
        return gettext("You have accepted this offer already: the time is booked.")
    if offer.status == Offer.Status.DECLINED:
        return gettext("You let this time go, so it has been offered to someone else.")
    if offer.status == Offer.Status.WITHDRAWN:
        return gettext("This offer was withdrawn, so the time is no longer kept for you.")
    return gettext(
        "This time was held for you until %(time)s. It has gone to the next person waiting."
    ) % {"time": f"{offer.hold.held_until.astimezone(selectors.clinic_zone()):%H:%M on %-d %B}"}


def first_course_plan(offer: Offer, now: datetime) -> list:
    """For a first session: the course planned from the held time (the journey's planner)."""
    entry = offer.entry
    hold = offer.hold
    return selectors.course_proposal(
        first=Slot(hold.start, hold.end, hold.practitioner_id),
        treatment=entry.treatment,
        sessions=entry.sessions_wanted or entry.treatment.sessions_usual,
        now=now,
        patient=entry.patient,
    )


@transaction.atomic
def offer_accept(
    *,
    offer: Offer,
    now: datetime | None = None,
    later: list[Slot] | None = None,
    consent: ConsentText | None = None,
) -> Session:
    """Book the held time: move the booked session there, or book the course whose first
    session it is (`later`: its later sessions, as planned and shown; `consent`: the
    consent text the patient agreed to). Returns the session booked at the held time.

    The hold makes way in the same transaction as the booking, which goes through the
    booking services and all their checks; if they refuse, nothing changes and the offer
    stays open. Accepting twice returns the first booking."""
    now = now or timezone.now()
    seen = Offer.objects.select_related("hold", "entry__session").get(pk=offer.pk)
    practitioners = [seen.hold.practitioner_id, *(s.practitioner_id for s in later or ())]
    if seen.entry.session_id:
        practitioners.append(seen.entry.session.practitioner_id)
    lock(practitioners, seen.patient)
    offer = _locked_offer(offer)
    if offer.status == Offer.Status.ACCEPTED and offer.booked_id:
        return Session.objects.get(pk=offer.booked_id)
    if refusal := offer_refusal(offer, now):
        raise OfferEnded(refusal)
    entry, hold = offer.entry, offer.hold
    offer.status, offer.decided_at, offer.reason = Offer.Status.ACCEPTED, now, ""
    entry.status, entry.ended_reason = WaitlistEntry.Status.BOOKED, "Booked from an offer."
    entry.save(update_fields=["status", "ended_reason", "updated_at"])
    Session.with_holds.filter(pk=hold.pk).update(
        status=Session.Status.CANCELLED, cancelled_at=now, updated_at=now
    )
    if entry.session_id:
        booked = session_move(
            session=entry.session,
            new_start=hold.start,
            practitioner=hold.practitioner,
            now=now,
        ).session
    else:
        course = course_book(
            patient=offer.patient,
            treatment=entry.treatment,
            slots=[Slot(hold.start, hold.end, hold.practitioner_id), *(later or ())],
            now=now,
            idempotency_key=f"waitlist-offer/{offer.pk}",
            answers={int(k): v for k, v in entry.answers.items()},
            answers_version=entry.answers_version,
            consent=consent,
            consent_method=Course.ConsentMethod.ONLINE,
        )
        booked = course.sessions.order_by("number").first()
    offer.booked = booked
    offer.save(update_fields=["status", "decided_at", "reason", "booked"])
    logger.info("waitlist offer accepted", extra={"offer_id": offer.pk})
    return booked


@transaction.atomic
def offer_decline(*, offer: Offer, now: datetime | None = None) -> Offer:
    """The patient lets the time go: it is handed on to the next match."""
    now = now or timezone.now()
    offer = _locked_offer(offer)
    if offer.status != Offer.Status.HELD:
        raise OfferEnded(offer_refusal(offer, now))
    hooks.hold_release(
        offer, status=Offer.Status.DECLINED, reason="Declined by the patient.", now=now
    )
    return offer


@transaction.atomic
def offer_withdraw(
    *, offer: Offer, by, reason: str, now: datetime | None = None, hand_on: bool = True
) -> Offer:
    """Staff take back a live offer (with a reason); the time is handed on to the next
    match, or (not `hand_on`) simply free, for reception to book it by phone."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise BookingError(gettext("Give a reason for withdrawing the offer."))
    offer = _locked_offer(offer)
    if offer.status != Offer.Status.HELD:
        raise OfferEnded(gettext("This offer has ended already."))
    hooks.hold_release(offer, status=Offer.Status.WITHDRAWN, reason=reason, now=now, free=hand_on)
    return offer


def holds_lapse(*, now: datetime) -> int:
    """Live offers whose hold has run out end as lapsed, and their time is handed on.

    A hold whose email has not gone yet (quiet hours, a mail server down) keeps the
    time: its clock starts when it is sent. It lapses unsent only once the time is
    too close to book."""
    rules = BookingRules.current()
    with transaction.atomic():
        offers = list(
            Offer.objects.select_for_update(of=("self",), skip_locked=True)
            .live()
            .filter(hold__held_until__lte=now)
            .select_related("hold")
            .order_by("hold__held_until")[:FREED_PER_SWEEP]
        )
        unsent = set(
            Reminder.objects.open()
            .filter(session_id__in=[o.hold_id for o in offers], kind=Reminder.Kind.OFFER)
            .values_list("session_id", flat=True)
        )
        lapsed = 0
        for offer in offers:
            if offer.hold_id in unsent and offer.hold.start - rules.min_notice > now:
                continue
            hooks.hold_release(
                offer, status=Offer.Status.LAPSED, reason="No answer in time.", now=now
            )
            lapsed += 1
    return lapsed


def entries_expire(*, now: datetime) -> int:
    """Entries whose last date has passed end; so do first-session entries whose health
    answers are to questions the clinic has changed since (the course could not be booked
    with them: the patient answers again in the booking journey)."""
    today = now.astimezone(selectors.clinic_zone()).date()
    waiting = WaitlistEntry.objects.filter(status=WaitlistEntry.Status.WAITING)
    ended = waiting.filter(date_to__lt=today).update(
        status=WaitlistEntry.Status.ENDED, ended_reason="Its dates have passed.", updated_at=now
    )
    ended += waiting.filter(STALE_ANSWERS).update(
        status=WaitlistEntry.Status.ENDED,
        ended_reason="The health questions have changed: answer them again to join.",
        updated_at=now,
    )
    return ended + _entries_booked_otherwise(now)


def _entries_booked_otherwise(now: datetime) -> int:
    """First-session entries whose patient has since booked a course of that treatment
    another way (the journey, by phone) end, and a live offer to them is handed on.

    Here, not in course_book: one query a sweep instead of one on every booking."""
    booked = Course.objects.filter(
        patient_id=OuterRef("patient_id"),
        treatment_id=OuterRef("treatment_id"),
        created_at__gte=OuterRef("created_at"),
        status=Course.Status.ACTIVE,
    )
    with transaction.atomic():
        entries = list(
            WaitlistEntry.objects.select_for_update(skip_locked=True)
            .filter(status=WaitlistEntry.Status.WAITING, session__isnull=True)
            .filter(Exists(booked))
            .values_list("pk", flat=True)
        )
        if not entries:
            return 0
        hooks.offers_withdraw(entries, reason="A course was booked.", now=now)
        return WaitlistEntry.objects.filter(pk__in=entries).update(
            status=WaitlistEntry.Status.ENDED, ended_reason="A course was booked.", updated_at=now
        )


def freed_time_match(*, now: datetime, limit: int = FREED_PER_SWEEP) -> int:
    """Offer the freed time noted since the last run; how many offers were made.

    Each freed stretch is offered to one entry at a time (the fairest that fits), then
    what is still free in it to the next, and so on. While the clinic has paused the
    automatic offers, freed time waits."""
    if WaitlistSettings.current().paused:
        return 0
    made = 0
    for _ in range(limit):
        with transaction.atomic():  # one stretch a transaction: locks held briefly, none lost
            freed = (
                FreedTime.objects.select_for_update(skip_locked=True)
                .filter(matched_at__isnull=True)
                .order_by("created_at", "pk")
                .first()
            )
            if freed is None:
                break
            made += _offer_freed(freed, now)
            FreedTime.objects.filter(pk=freed.pk).update(matched_at=now)
    return made


def _unheld(parts: list[tuple[datetime, datetime]], hold: Session) -> list:
    """What is left of `parts` (start, end) once `hold`'s time is taken out."""
    left = []
    for start, end in parts:
        left += [(start, min(end, hold.start)), (max(start, hold.end), end)]
    return [(start, end) for start, end in left if start < end]


def _offer_freed(freed: FreedTime, now: datetime) -> int:
    made, tried = 0, set()
    ids = None if freed.practitioner_id is None else [freed.practitioner_id]
    if ids is None:
        # Every practitioner's time (a closure removed), offered in this one transaction:
        # offer_make locks a practitioner, then a patient, and keeps both to the end. Lock
        # them all first, in the services' order, or a second offer here would lock a
        # practitioner after a patient, and wait in a circle with another sweep or booking.
        ids = list(
            Practitioner.objects.select_for_update()
            .filter(is_active=True)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
    # The settings rows, read once for the whole stretch (each read is a cache round trip).
    rules, config, quiet = (
        BookingRules.current(),
        WaitlistSettings.current(),
        ReminderSettings.current(),
    )
    # The parts of one practitioner's freed stretch not held yet. Once holds cover all of
    # it, no time in it is free, so no further match is looked for (a cancelled session's
    # time is usually one hold; looking again cost the whole search once more, for nothing).
    left = [(freed.start, freed.end)]
    while made < OFFERS_PER_FREED_TIME and left:
        match = matching.entry_match(
            practitioner_ids=ids,
            start=freed.start,
            end=freed.end,
            now=now,
            exclude=tried,
            rules=rules,
            config=config,
            quiet=quiet,
        )
        if match is None:
            return made
        try:
            with transaction.atomic():
                offer = offer_make(
                    entry=match.entry,
                    slot=match.slot,
                    now=now,
                    cause=freed.get_cause_display(),
                    settings=(rules, config, quiet),
                    planned=True,
                )
        except BookingError as exc:  # taken meanwhile: the next match
            logger.info(
                "waitlist match not offered", extra={"entry_id": match.entry.pk, "rule": exc.rule}
            )
            tried.add(match.entry.pk)
            continue
        tried.add(match.entry.pk)
        made += 1
        if freed.practitioner_id is not None:
            left = _unheld(left, offer.hold)
    return made


def waitlist_sweep(*, now: datetime | None = None) -> dict[str, int]:
    """The periodic run: end old entries, lapse holds (handing their time on), match freed
    time. Safe to run at once in several workers (rows are claimed with SKIP LOCKED)."""
    now = now or timezone.now()
    return {
        "expired": entries_expire(now=now),
        "lapsed": holds_lapse(now=now),
        "offered": freed_time_match(now=now),
    }


@transaction.atomic
def offers_pause(*, paused: bool, by=None) -> WaitlistSettings:
    """Pause (or resume) the automatic offers. Offers by hand still go; freed time noted
    while paused is offered on resuming (freed_time_match)."""
    config = (
        WaitlistSettings.objects.select_for_update().filter(pk=1).first()
        or WaitlistSettings.unsaved_default()
    )
    config.paused = paused
    config.full_clean()
    config.save()  # clears the kept copy, so the next sweep reads it
    logger.info(
        "waitlist offers paused" if paused else "waitlist offers resumed",
        extra={"user_id": getattr(by, "pk", None)},
    )
    return config


def offers_filled(*, now: datetime) -> int:
    """Freed sessions the waitlist filled this month (clinic time): offers accepted."""
    zone = selectors.clinic_zone()
    local = now.astimezone(zone)
    month_start = local.replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    return Offer.objects.filter(status=Offer.Status.ACCEPTED, decided_at__gte=month_start).count()


__all__ = [
    "OfferEnded",
    "Wish",
    "entry_change",
    "entry_join",
    "entry_leave",
    "first_course_plan",
    "holds_lapse",
    "offer_accept",
    "offer_decline",
    "offer_make",
    "offer_refusal",
    "offer_withdraw",
    "offers_filled",
    "offers_pause",
    "waitlist_sweep",
]
