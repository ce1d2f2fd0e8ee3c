"""What a request stored, and whether it may have: rows counted and compared before and after,
and every session or course it wrote held to the booking rules, asked of the rulebook."""

from dataclasses import dataclass
from datetime import date

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection

from booking import rulebook, selectors, services
from booking.availability import Slot
from booking.models import (
    BookingRules,
    ClinicalNote,
    Course,
    Patient,
    Reminder,
    Session,
    TimeOff,
)
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


def rules_for(*, by_staff: bool) -> BookingRules:
    """The rules as the booking services apply them: staff may book and move inside the
    minimum notice (booking.services.staff_rules)."""
    rules = BookingRules.current()
    return services.staff_rules(rules) if by_staff else rules


def assert_bookable(session: Session, *, by_staff: bool) -> None:
    """A time the clinic offers for it, the session itself left out: the free-slot read the
    booking services check against (working hours, time off, closures, the buffer around the
    practitioner's other sessions, the patient's other sessions, the slot grid, and for
    patients the minimum notice), with a practitioner who offers its treatment."""
    treatment, zone = session.course.treatment, selectors.clinic_zone()
    assert session.practitioner in selectors.practitioners_for(treatment), (
        f"{session}: {session.practitioner} does not offer {treatment}"
    )
    day = session.start.astimezone(zone).date()
    offered = selectors.free_slots(
        treatment=treatment,
        day_from=day,
        day_to=day,
        now=NOW,
        practitioners=[session.practitioner],
        patient=session.patient,
        latest=session.start,
        exclude_session_ids=[session.pk],
        rules=rules_for(by_staff=by_staff),
    )
    slot = Slot(session.start, session.end, session.practitioner_id)
    assert slot in offered, f"{session} at {session.start.astimezone(zone)} is not a free time"


def assert_course_keeps_rules(course: Course) -> None:
    """ORDER and WINDOW over its active sessions (booking/rulebook.py), less the rules staff
    waived for it with a reason."""
    starts = [(s.number, s.start) for s in course.sessions.active()]
    spacing, zone = rulebook.spacing_of(course.treatment), selectors.clinic_zone()
    breaches = [
        b for b in rulebook.course_breaches(starts, spacing, zone) if b.rule not in course.waived
    ]
    assert not breaches, f"{course}: {[b.message for b in breaches]}"


def assert_moves_valid(before, after, *, by_staff: bool) -> None:
    """Sessions may be moved or cancelled, only those the rulebook lets this person change;
    every moved one is bookable, and its course keeps its rules."""
    nothing_stored(before, after, but={"Session", "Reminder"})
    assert new_rows(Session, before, after) == 0, "a session was added"
    rules = rules_for(by_staff=by_staff)
    earliest, _latest = selectors.bookable_bounds(NOW, rules)
    for session in changed_sessions(before, after):
        status, start, practitioner_id = before.sessions[session.pk]
        if session.status == Session.Status.CANCELLED or (start, practitioner_id) != (
            session.start,
            session.practitioner_id,
        ):
            breach = rulebook.change_breach(status, start, NOW, rules, by_staff=by_staff)
            assert breach is None, f"{session} was changed: {breach.message}"
        if session.status == Session.Status.CANCELLED:
            continue
        assert session.start >= earliest, f"{session} moved to {session.start}, too soon"
        first = selectors.previous_active(session) is None
        if first and not by_staff:
            breach = rulebook.first_session_breach(session.start, NOW, rules)
            assert breach is None, f"{session} moved to {session.start}: {breach.message}"
        assert_bookable(session, by_staff=by_staff)
        assert_course_keeps_rules(session.course)


def assert_course_valid(course: Course, *, by_staff: bool) -> None:
    """As many sessions as planned and the treatment allows; the first one's notice and
    horizon (waived only by staff with a reason), and every one bookable, as the rulebook
    and the free-slot read say."""
    sessions = list(course.sessions.order_by("number"))
    assert len(sessions) == course.sessions_planned
    assert course.treatment.sessions_min <= len(sessions) <= course.treatment.sessions_max
    waive_notice = by_staff and bool(course.override_reason.strip())
    breach = rulebook.first_session_breach(
        sessions[0].start, NOW, BookingRules.current(), waive_notice=waive_notice
    )
    assert breach is None, f"{course}: {breach.message}"
    for session in sessions:
        assert_bookable(session, by_staff=by_staff)
    assert_course_keeps_rules(course)


def staff_moves_check(clinic, request, before, after):
    assert_moves_valid(before, after, by_staff=True)
