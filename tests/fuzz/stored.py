"""What a request stored, and whether it may have: rows counted and compared before and after,
and every session or course it wrote held to the booking rules, asked of the rulebook."""

from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection

from booking import selectors
from booking.courses import session_window
from booking.models import (
    BookingRules,
    ClinicalNote,
    ClinicClosure,
    Course,
    Patient,
    Reminder,
    Session,
    TimeOff,
    WorkingHours,
)
from booking.rulebook import spacing_of
from education.models import NewsletterSubscriber
from tests.booking.conftest import NOW

User = get_user_model()

COUNTED = [Course, Session, Patient, Reminder, NewsletterSubscriber, TimeOff, ClinicalNote, User]


@dataclass(frozen=True)
class Snapshot:
    counts: dict[str, int]
    sessions: dict[int, tuple]  # pk -> (status, start, practitioner)
    patients: dict[int, tuple]
    subscribers: dict[int, tuple]


def snapshot() -> Snapshot:
    tables = [connection.ops.quote_name(m._meta.db_table) for m in COUNTED]
    with connection.cursor() as cursor:
        # The models' own table names, quoted: nothing typed reaches this query.
        cursor.execute("SELECT " + ", ".join(f"(SELECT COUNT(*) FROM {t})" for t in tables))  # noqa: S608
        counts = dict(zip([m.__name__ for m in COUNTED], cursor.fetchone(), strict=True))
    return Snapshot(
        counts=counts,
        sessions={
            pk: rest
            for pk, *rest in Session.objects.values_list("pk", "status", "start", "practitioner_id")
        },
        patients={
            pk: tuple(rest)
            for pk, *rest in Patient.objects.values_list(
                "pk", "full_name", "phone", "email_check_in", "email_next_window"
            )
        },
        subscribers={
            pk: tuple(rest)
            for pk, *rest in NewsletterSubscriber.objects.values_list(
                "pk", "confirmed_at", "unsubscribed_at"
            )
        },
    )


def new_rows(model, before: Snapshot, after: Snapshot) -> int:
    return after.counts[model.__name__] - before.counts[model.__name__]


def changed_sessions(before: Snapshot, after: Snapshot) -> list[Session]:
    pks = [pk for pk, row in after.sessions.items() if before.sessions.get(pk) != row]
    return list(Session.objects.filter(pk__in=pks).select_related("course__treatment"))


def nothing_stored(before: Snapshot, after: Snapshot, *, but=()) -> None:
    """No row added or removed, and no session, patient or subscriber changed, but `but`."""
    for name in before.counts:
        if name not in but:
            assert before.counts[name] == after.counts[name], f"a {name} row was stored"
    if "Session" not in but:
        assert before.sessions == after.sessions, "a session changed"
    if "Patient" not in but:
        assert before.patients == after.patients, "a patient changed"
    if "NewsletterSubscriber" not in but:
        assert before.subscribers == after.subscribers, "a subscriber changed"


def is_email(value: str | None) -> bool:
    if value is None or not value.strip() or len(value.strip()) > 254:
        return False
    try:
        validate_email(value.strip())
    except ValidationError:
        return False
    return True


def is_phone(value: str) -> bool:
    """What reception can dial: at least 7 digits (any script's decimal digits)."""
    return sum(c.isdecimal() for c in value) >= 7 and len(value) <= 40


def assert_patient_valid(patient: Patient) -> None:
    assert patient.full_name.strip() and len(patient.full_name) <= 150, patient.full_name
    assert is_phone(patient.phone), f"stored phone {patient.phone!r}"
    assert is_email(patient.user.email), f"stored email {patient.user.email!r}"
    if patient.date_of_birth:
        assert date(1900, 1, 1) <= patient.date_of_birth <= NOW.date()


def assert_bookable(session: Session) -> None:
    """Inside its practitioner's hours, not in time off or a closure, clear of every other
    active session of its practitioner (with the buffer) and its patient."""
    zone, buffer = selectors.clinic_zone(), BookingRules.current().buffer
    start, end = session.start.astimezone(zone), session.end.astimezone(zone)
    assert start.date() == end.date(), f"{session} runs past midnight"
    assert WorkingHours.objects.filter(
        practitioner_id=session.practitioner_id,
        weekday=start.weekday(),
        start__lte=start.time(),
        end__gte=end.time(),
    ).exists(), f"{session} at {start} is outside working hours"
    assert not TimeOff.objects.filter(
        practitioner_id=session.practitioner_id, start__lt=session.end, end__gt=session.start
    ).exists(), f"{session} is in time off"
    assert not ClinicClosure.objects.filter(date=start.date()).exists()
    active = Session.objects.active().exclude(pk=session.pk)
    assert not active.filter(
        practitioner_id=session.practitioner_id,
        start__lt=session.end + buffer,
        end__gt=session.start - buffer,
    ).exists(), f"{session} clashes with the practitioner's other sessions"
    assert not active.filter(
        patient_id=session.patient_id, start__lt=session.end, end__gt=session.start
    ).exists(), f"{session} clashes with the patient's other sessions"


def assert_in_window(session: Session) -> None:
    previous = (
        Session.objects.active()
        .filter(course_id=session.course_id, number__lt=session.number)
        .order_by("-number")
        .first()
    )
    if previous is None or session.course.override_reason:
        return
    zone = selectors.clinic_zone()
    window = session_window(previous.start, spacing_of(session.course.treatment), zone)
    assert window.holds(session.start, zone), f"{session} at {session.start} is outside its window"


def assert_moves_valid(before, after, *, min_start: datetime) -> None:
    """Sessions may be moved or cancelled; every moved one is bookable and in its window."""
    nothing_stored(before, after, but={"Session", "Reminder"})
    assert new_rows(Session, before, after) == 0, "a session was added"
    for session in changed_sessions(before, after):
        if session.status == Session.Status.CANCELLED:
            continue
        assert session.start >= min_start, f"{session} moved to {session.start}, too soon"
        assert_bookable(session)
        assert_in_window(session)


def assert_course_valid(course: Course, *, by_staff: bool) -> None:
    sessions = list(course.sessions.order_by("number"))
    assert len(sessions) == course.sessions_planned
    assert course.treatment.sessions_min <= len(sessions) <= course.treatment.sessions_max
    rules = BookingRules.current()
    first = sessions[0].start
    assert first > NOW
    if not (by_staff and course.override_reason.strip()):
        assert first >= NOW + rules.min_notice, f"{course} starts inside the minimum notice"
    assert first <= NOW + rules.horizon
    for session in sessions:
        assert_bookable(session)
        assert_in_window(session)


def staff_moves_check(clinic, request, before, after):
    assert_moves_valid(before, after, min_start=NOW)
