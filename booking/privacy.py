"""A patient's own data: a copy to download, and closing the account.

`patient_data` (a read) gathers what the clinic holds about the signed-in
person, in plain JSON types. Clinical notes are left out: the clinic shares
them on request, after a clinician has looked at them.

`account_delete` (a write) is the right to erasure as UK GDPR frames it. The
right does not reach health records the clinic must keep (Article 17(3)(c)
and (3)(b): public health, and the legal duty to keep treatment records), so
courses, sessions, clinical notes and their history stay, tied to a patient
record that no longer says who it was. Everything that identifies the person
goes: name, phone, date of birth, email addresses (also in the history rows,
the admin's change log and the mail errors), the newsletter subscription, the
password and every signed-in session (which also hold the booking journey's
health answers). The course ledger stays (a financial record), less the patient's
name and address wherever its words held them; so do the online deposits' amounts
and dates (booking/deposits/), less the health answers a deposit kept to book the
course once paid. Future sessions are cancelled and times held while a deposit is
paid are released, so the practitioner's time is freed; the clinic is told, the
patient is not: they are leaving, and their address is gone.
"""

from importlib import import_module

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session as WebSession
from django.core.cache import caches
from django.db import transaction
from django.db.models import Q, QuerySet, Value
from django.db.models.functions import Left, Replace
from django.utils import timezone

from education.models import NewsletterSubscriber

from . import reminders, services
from .deposits import services as deposits
from .deposits.models import DepositCheckout
from .ledger.models import LedgerEntry, ReceiptSent
from .models import ClinicalNote, Course, Patient, Reminder, ReminderEvent, Session, WaitlistEntry
from .waitlist import services as waitlist

DELETED_EMAIL_DOMAIN = "deleted.invalid"  # .invalid never resolves (RFC 2606)
REMOVED = "(removed: it named a deleted account)"


def _iso(moment) -> str | None:
    """ISO 8601 in clinic time, with its UTC offset."""
    return timezone.localtime(moment).isoformat() if moment else None


def _course_data(course: Course) -> dict:
    consent = course.consent
    return {
        "treatment": course.treatment.name,
        "status": course.status,
        "sessions_planned": course.sessions_planned,
        "booked_at": _iso(course.created_at),
        "suitability_answers": [
            {"question": item.get("question"), "answer": item.get("answer")}
            for item in (course.suitability_answers or {}).get("questions", [])
        ],
        "health_questions_version": course.questions_version,
        "consent": {"version": consent.version, "given_at": _iso(course.consent_given_at)}
        if consent
        else None,
        # What it cost and what was paid, as the clinic's ledger has it (who at the clinic
        # recorded each entry is the clinic's, not the patient's, data).
        "price": str(course.price) if course.price is not None else None,
        "currency": course.currency,
        "ledger": [_ledger_data(entry) for entry in course.ledger.all()],
        "sessions": [
            {
                "number": s.number,
                "start": _iso(s.start),
                "end": _iso(s.end),
                "status": s.status,
                "practitioner": s.practitioner.display_name,
                "cancelled_at": _iso(s.cancelled_at),
            }
            for s in sorted(course.sessions.all(), key=lambda s: (s.number, s.start))
        ],
    }


def _ledger_data(entry: LedgerEntry) -> dict:
    """One ledger entry as the patient sees it (who at the clinic recorded it is the
    clinic's, not the patient's, data; Stripe's references are the clinic's too)."""
    return {
        "kind": entry.kind,
        "amount": str(entry.amount),
        "paid_by": entry.method or None,
        "session_number": entry.session.number if entry.session_id else None,
        "at": _iso(entry.at),
        "why": entry.reason,
    }


def _deposits_data(patient: Patient) -> list[dict]:
    """The patient's online deposits: what each was, how it ended, and the money of one paid
    after its times were released (a booked one's is in its course's ledger above)."""
    checkouts = (
        DepositCheckout.objects.filter(patient=patient)
        .select_related("treatment", "course")
        .prefetch_related("ledger__session")
        .order_by("created_at", "pk")
    )
    return [
        {
            "treatment": checkout.treatment.name,
            "amount": str(checkout.amount),
            "currency": checkout.currency,
            "status": checkout.status,
            "started": _iso(checkout.created_at),
            "times_held_until": _iso(checkout.expires_at),
            "course_booked_at": _iso(checkout.course.created_at) if checkout.course_id else None,
            "ledger": [_ledger_data(entry) for entry in checkout.ledger.all()],
        }
        for checkout in checkouts
    ]


def _waitlist_data(patient: Patient) -> list[dict]:
    """The patient's waitlist entries, each with the times offered and what became of them."""
    entries = patient.waitlist_entries.select_related(
        "treatment", "practitioner", "session"
    ).prefetch_related("offers__hold__practitioner")
    return [
        {
            "treatment": entry.treatment.name,
            "for_session": entry.session.number if entry.session_id else None,
            "practitioner": entry.practitioner.display_name if entry.practitioner_id else None,
            "from": entry.date_from.isoformat(),
            "until": entry.date_to.isoformat(),
            "days_of_week": [d for d in range(7) if entry.weekdays & (1 << d)],
            "parts_of_day": entry.parts_of_day,
            "status": entry.status,
            "joined": _iso(entry.created_at),
            "offers": [
                {
                    "start": _iso(offer.hold.start),
                    "practitioner": offer.hold.practitioner.display_name,
                    "status": offer.status,
                    "offered": _iso(offer.created_at),
                    "ended": _iso(offer.decided_at),
                }
                for offer in entry.offers.all()
            ],
        }
        for entry in entries.order_by("created_at")
    ]


def verified_emails(user) -> set[str]:
    """The addresses `user` has proved are theirs: the only ones matched against other records.

    Anyone can type any address into their account (allauth keeps it,
    unverified); matching newsletter rows or sign-in records by such an
    address would export, or delete, someone else's.
    """
    return {
        email.lower()
        for email in EmailAddress.objects.filter(user=user, verified=True).values_list(
            "email", flat=True
        )
    }


def patient_data(*, user) -> dict:
    """Everything about `user` a data export holds, ready for json.dumps."""
    addresses = list(EmailAddress.objects.filter(user=user).order_by("-primary", "email"))
    emails = verified_emails(user)
    patient = Patient.objects.filter(user=user).first()
    courses, emails_sent, waiting, paid_online = [], [], [], []
    if patient is not None:
        waiting = _waitlist_data(patient)
        paid_online = _deposits_data(patient)
        courses = [
            _course_data(course)
            for course in patient.courses.select_related("treatment", "consent")
            .prefetch_related("sessions__practitioner", "ledger__session")
            .order_by("created_at")
        ]
        # What was sent to the patient; the clinic's own notice repeats the course above.
        emails_sent = [
            {"kind": kind, "sent_at": _iso(sent_at), "session_number": number}
            for kind, sent_at, number in Reminder.objects.filter(
                session__patient=patient, status=Reminder.Status.SENT
            )
            .exclude(kind=Reminder.Kind.CLINIC_NOTICE)
            .order_by("sent_at", "pk")
            .values_list("kind", "sent_at", "session__number")
        ]
    subscriber = (
        NewsletterSubscriber.objects.filter(_any_email("email__iexact", emails))
        .order_by("pk")
        .first()
    )
    return {
        "exported_at": _iso(timezone.now()),
        "account": {
            "email": user.email,
            "full_name": user.full_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "email_addresses": [
                {"email": a.email, "verified": a.verified, "primary": a.primary} for a in addresses
            ],
        },
        "patient": {
            "full_name": patient.full_name,
            "phone": patient.phone,
            "date_of_birth": patient.date_of_birth.isoformat() if patient.date_of_birth else None,
            "email_preferences": {
                "check_in": patient.email_check_in,
                "next_window": patient.email_next_window,
            },
        }
        if patient
        else None,
        "courses": courses,
        "online_deposits": paid_online,
        "waitlist": waiting,
        "emails_sent": emails_sent,
        "newsletter": {
            "email": subscriber.email,
            "signed_up": _iso(subscriber.created_at),
            "confirmed": _iso(subscriber.confirmed_at),
            "unsubscribed": _iso(subscriber.unsubscribed_at),
        }
        if subscriber
        else None,
    }


def _any_email(lookup: str, emails) -> Q:
    """Matches any of `emails` whatever its case (addresses typed by hand vary)."""
    query = Q(pk__in=[])
    for email in emails:
        query |= Q(**{lookup: email})
    return query


def _sessions_cancel(patient: Patient, now) -> None:
    """Leave the waitlist, cancel every future session, stop every open email, and tell the
    clinic."""
    for entry in patient.waitlist_entries.filter(status=WaitlistEntry.Status.WAITING):
        waitlist.entry_leave(entry=entry, now=now)  # a live offer is handed on
    first_cancelled = []
    for course in patient.courses.filter(
        sessions__status=Session.Status.BOOKED, sessions__start__gt=now
    ).distinct():
        # by_staff: inside the notice period too; nobody can be told "call us" now.
        cancelled = services.course_cancel(course=course, now=now, by_staff=True, notify=False)
        if cancelled:
            first_cancelled.append(cancelled[0])
    # Confirmations and notices still waiting would go to an address that is gone.
    reminders.reminders_cancel(
        Reminder.objects.open().filter(session__patient=patient),
        now=now,
        reason="The patient deleted their account.",
    )
    for session in first_cancelled:
        # One notice per course, on its first cancelled session: the email lists the
        # sessions cancelled with it. _reopen makes a new version when one was sent.
        reminders._reopen(session, Reminder.Kind.CLINIC_NOTICE, now)


DATABASE_SESSION_ENGINES = (
    "django.contrib.sessions.backends.db",
    "django.contrib.sessions.backends.cached_db",
    "clinic.sessions",
)


def _web_sessions_delete(user) -> None:
    """Sign the user out everywhere (sessions kept in the database, and their cached copies).

    Other engines' sessions end with the password (the session auth hash).
    """
    if settings.SESSION_ENGINE not in DATABASE_SESSION_ENGINES:
        return
    keys = [
        web.pk
        for web in WebSession.objects.filter(expire_date__gt=timezone.now()).iterator()
        if web.get_decoded().get("_auth_user_id") == str(user.pk)
    ]
    store = import_module(settings.SESSION_ENGINE).SessionStore
    for key in keys:
        store(session_key=key).delete()  # the row, and for cached_db the cached copy
    if keys and hasattr(store, "cache_key_prefix"):
        # A request in this transaction's last moments may copy a row back into
        # the cache before the delete commits: forget the copies again after it.
        stale = [store.cache_key_prefix + key for key in keys]
        sessions_cache = caches[settings.SESSION_CACHE_ALIAS]
        transaction.on_commit(lambda: sessions_cache.delete_many(stale))


def _admin_log_scrub(*, patient, user, old: dict[str, str], new: dict[str, str]) -> None:
    """The admin's change log names objects by their str(): the patient's name, the email."""
    targets = [(get_user_model(), [user.pk])]
    if patient is not None:
        sessions = list(Session.objects.filter(patient=patient).values_list("pk", flat=True))
        targets += [
            (Patient, [patient.pk]),
            (Course, list(patient.courses.values_list("pk", flat=True))),
            # A deposit's name is "Deposit 12 for <patient>".
            (DepositCheckout, list(patient.checkouts.values_list("pk", flat=True))),
            (Session, sessions),
            (
                ClinicalNote,
                list(
                    ClinicalNote.objects.filter(session__in=sessions).values_list("pk", flat=True)
                ),
            ),
        ]
    where = Q(pk__in=[])
    for model, ids in targets:
        where |= Q(
            content_type=ContentType.objects.get_for_model(model),
            object_id__in=[str(pk) for pk in ids],
        )
    text = "object_repr"
    for key, value in old.items():
        if value:
            text = Replace(text, Value(value), Value(new[key]))
    LogEntry.objects.filter(where).update(object_repr=text)


def _ledger_scrub(*, patient, user, old: dict[str, str], new: dict[str, str]) -> None:
    """The course ledger is a financial record the clinic keeps (amounts, dates, why), but
    nothing in it may name the patient: an entry they made themselves (a cancellation
    online) names them as its author, and a note typed at the desk may hold their name or
    address. Only those words change: past the ledger's append-only guard (LedgerQuerySet
    refuses update()), as the erasure is the one change the law asks of a kept record."""
    # A deposit paid after its times were released is its checkout's, not a course's.
    entries = LedgerEntry.objects.filter(Q(course__patient=patient) | Q(checkout__patient=patient))
    QuerySet.update(LedgerEntry.objects.filter(recorded_by=user), recorded_by_name=new["name"])
    text = "reason"
    for key, value in old.items():
        if value:
            text = Replace(text, Value(value), Value(new[key]))
    QuerySet.update(entries, reason=Left(text, 300))
    ReceiptSent.objects.filter(
        Q(entry__course__patient=patient) | Q(entry__checkout__patient=patient)
    ).update(to=new["email"])


@transaction.atomic
def account_delete(*, user, now) -> None:
    """Close `user`'s account: cancel what is to come, keep the clinical record, forget who."""
    # No lock here: the cancel services lock practitioners, then the patient, in that order.
    patient = Patient.objects.filter(user=user).first()
    # Every address the account holds, to scrub from its own records; only the
    # verified ones reach records that are matched by address alone.
    own_emails = {
        user.email.lower(),
        *(
            e.lower()
            for e in EmailAddress.objects.filter(user=user).values_list("email", flat=True)
        ),
    }
    proved = verified_emails(user)
    new_email = f"deleted-{user.pk}@{DELETED_EMAIL_DOMAIN}"
    old = {"email": user.email, "name": patient.full_name if patient else ""}
    new = {"email": new_email, "name": ""}
    if patient is not None:
        # Times held while a deposit is paid first: in the booking services' lock order.
        deposits.patient_holds_release(
            patient=patient, reason="The patient deleted their account.", now=now
        )
        _sessions_cancel(patient, now)
        # The health answers a deposit kept to book the course once paid; its amounts stay.
        DepositCheckout.objects.filter(patient=patient).update(answers={})
        new["name"] = f"Deleted patient {patient.pk}"
        patient.full_name, patient.phone, patient.date_of_birth = new["name"], "", None
        patient.email_check_in = patient.email_next_window = False
        patient._change_reason = "The patient deleted their account."
        # Not full_clean(): an empty phone is deliberately outside what a form accepts.
        patient.save()
        Patient.history.filter(id=patient.pk).update(
            full_name=new["name"], phone="", date_of_birth=None
        )
        # An SMTP refusal quotes the address it refused (an offer's email is about a hold).
        sessions = Session.with_holds.filter(patient=patient)
        Reminder.objects.filter(session__in=sessions).filter(
            _any_email("last_error__icontains", own_emails)
        ).update(last_error=REMOVED)
        ReminderEvent.objects.filter(reminder__session__in=sessions).filter(
            _any_email("detail__icontains", own_emails)
        ).update(detail=REMOVED)
        _ledger_scrub(patient=patient, user=user, old=old, new=new)

    user.email, user.full_name, user.is_active = new_email, "", False
    user.set_unusable_password()
    user.save(update_fields=["email", "full_name", "is_active", "password"])
    if history := getattr(get_user_model(), "history", None):  # if the user model gains history
        history.filter(id=user.pk).update(email=new_email, full_name="")
    EmailAddress.objects.filter(user=user).delete()
    NewsletterSubscriber.objects.filter(_any_email("email__iexact", proved)).delete()
    # django-axes keeps the email typed at each failed sign-in; two-factor keys go too.
    # (An unverified address's failures stay: they may be someone else's, and a
    # lockout's cool-off ends them anyway.)
    AccessAttempt.objects.filter(_any_email("username__iexact", proved)).delete()
    AccessFailureLog.objects.filter(_any_email("username__iexact", proved)).delete()
    AccessLog.objects.filter(_any_email("username__iexact", proved)).delete()
    Authenticator.objects.filter(user=user).delete()
    _admin_log_scrub(patient=patient, user=user, old=old, new=new)
    _web_sessions_delete(user)
