"""Reads that feed the pure availability and planning functions.

One query per input: practitioners' working hours, their time off, their
sessions, the clinic's closures, and (when booking for someone) the patient's
sessions, whatever the number of sessions in the database. On PostgreSQL,
schedule() reads all five in one statement.
"""

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import Count, Max, Q

from clinic.versioned_cache import read_through
from education.models import Treatment

from .availability import Calendar, Interval, Shift, Slot, slots_available
from .courses import FindSlots, end_of_day
from .models import (
    LONGEST_SESSION,
    BookingRules,
    ClinicClosure,
    Course,
    Patient,
    Practitioner,
    Session,
    TimeOff,
    WorkingHours,
)


def clinic_zone() -> ZoneInfo:
    return ZoneInfo(settings.TIME_ZONE)


def _span(day_from: date, day_to: date, zone: ZoneInfo, margin: timedelta):
    start = datetime.combine(day_from, time(0), tzinfo=zone) - margin
    end = end_of_day(day_to, zone) + margin
    return start, end


PRACTITIONERS_VERSION = "booking:practitioners-version"  # moved on by booking/signals.py


def practitioners_for(treatment: Treatment) -> list[Practitioner]:
    """Active practitioners who offer `treatment`: kept until a practitioner is saved."""
    return read_through(
        PRACTITIONERS_VERSION,
        f"booking:practitioners-for:{treatment.pk}",
        lambda: list(Practitioner.objects.filter(is_active=True, treatments=treatment)),
        timeout=10 * 60,  # saves move it on at once; this bounds a change made around the ORM
    )


def calendars(
    *,
    practitioners: Sequence[Practitioner],
    day_from: date,
    day_to: date,
    buffer: timedelta,
    exclude_session_ids: Sequence[int] = (),
) -> list[Calendar]:
    """Each practitioner's shifts, time off and sessions around the dates (3 queries)."""
    ids = [p.pk for p in practitioners]
    start, end = _span(day_from, day_to, clinic_zone(), buffer + timedelta(days=1))
    shifts, offs, busy = defaultdict(list), defaultdict(list), defaultdict(list)
    hours = WorkingHours.objects.filter(practitioner__in=ids).order_by()
    for pid, weekday, s, e in hours.values_list("practitioner_id", "weekday", "start", "end"):
        shifts[pid].append(Shift(weekday, s, e))
    for pid, s, e in (
        TimeOff.objects.filter(practitioner__in=ids, start__lt=end, end__gt=start)
        .order_by()
        .values_list("practitioner_id", "start", "end")
    ):
        offs[pid].append(Interval(s, e))
    sessions = (
        Session.objects.active()
        .filter(practitioner__in=ids)
        .overlapping(start, end)
        .exclude(pk__in=exclude_session_ids)
        .order_by()
        .values_list("practitioner_id", "start", "end")
    )
    for pid, s, e in sessions:
        busy[pid].append(Interval(s, e))
    return [Calendar(pid, tuple(shifts[pid]), tuple(busy[pid]), tuple(offs[pid])) for pid in ids]


def closure_days(day_from: date, day_to: date) -> set[date]:
    return set(
        ClinicClosure.objects.filter(date__gte=day_from, date__lte=day_to)
        .order_by()
        .values_list("date", flat=True)
    )


def patient_busy(
    patient: Patient | None, day_from: date, day_to: date, exclude_session_ids: Sequence[int] = ()
) -> list[Interval]:
    if patient is None or patient.pk is None:
        return []
    start, end = _span(day_from, day_to, clinic_zone(), timedelta(days=1))
    rows = (
        Session.objects.active()
        .filter(patient=patient)
        .overlapping(start, end)
        .exclude(pk__in=exclude_session_ids)
        .order_by()
        .values_list("start", "end")
    )
    return [Interval(s, e) for s, e in rows]


@dataclass(frozen=True)
class Schedule:
    """What free_slots needs from the database: calendars, closed days, the patient's sessions."""

    calendars: list[Calendar]
    closures: set[date]
    patient_busy: list[Interval]


def schedule(
    *,
    practitioners: Sequence[Practitioner],
    day_from: date,
    day_to: date,
    buffer: timedelta,
    patient: Patient | None = None,
    exclude_session_ids: Sequence[int] = (),
) -> Schedule:
    """calendars(), closure_days() and patient_busy() together.

    On PostgreSQL in one statement (one round trip, no ORM compiling: the
    five querysets cost ~3.5 ms of CPU on every week view and every planned
    session, the statement ~0.3 ms); elsewhere (SQLite in development) the
    querysets. tests/booking/test_schedule_query.py holds the two to the same
    answers.
    """
    read = _schedule_statement if connection.vendor == "postgresql" else _schedule_querysets
    return read(
        practitioners=practitioners,
        day_from=day_from,
        day_to=day_to,
        buffer=buffer,
        patient=patient,
        exclude_session_ids=exclude_session_ids,
    )


def _schedule_querysets(
    *, practitioners, day_from, day_to, buffer, patient, exclude_session_ids
) -> Schedule:
    return Schedule(
        calendars(
            practitioners=practitioners,
            day_from=day_from,
            day_to=day_to,
            buffer=buffer,
            exclude_session_ids=exclude_session_ids,
        ),
        closure_days(day_from, day_to),
        patient_busy(patient, day_from, day_to, exclude_session_ids),
    )


def _schedule_statement(
    *, practitioners, day_from, day_to, buffer, patient, exclude_session_ids
) -> Schedule:
    ids = [p.pk for p in practitioners]
    zone = clinic_zone()
    start, end = _span(day_from, day_to, zone, buffer + timedelta(days=1))
    patient_start, patient_end = _span(day_from, day_to, zone, timedelta(days=1))
    shifts, offs, busy = defaultdict(list), defaultdict(list), defaultdict(list)
    closed, mine = set(), []
    with connection.cursor() as cursor:
        cursor.execute(
            _schedule_sql(),
            {
                "ids": ids,
                "start": start,
                "end": end,
                "cancelled": Session.Status.CANCELLED.value,
                "exclude": list(exclude_session_ids),
                "day_from": day_from,
                "day_to": day_to,
                "patient": patient.pk if patient is not None else None,
                "patient_start": patient_start,
                "patient_end": patient_end,
                # As Session.objects.overlapping: the indexes scan only sessions near the range.
                "floor": start - LONGEST_SESSION,
                "patient_floor": patient_start - LONGEST_SESSION,
            },
        )
        for kind, pid, weekday, shift_start, shift_end, s, e, day in cursor.fetchall():
            if kind == "h":
                shifts[pid].append(Shift(weekday, shift_start, shift_end))
            elif kind == "o":
                offs[pid].append(Interval(s, e))
            elif kind == "s":
                busy[pid].append(Interval(s, e))
            elif kind == "c":
                closed.add(day)
            else:
                mine.append(Interval(s, e))
    return Schedule(
        [Calendar(pid, tuple(shifts[pid]), tuple(busy[pid]), tuple(offs[pid])) for pid in ids],
        closed,
        mine,
    )


@functools.cache
def _schedule_sql() -> str:
    """The five reads of schedule() as one UNION ALL (kind, then each read's columns)."""
    hours, off = WorkingHours._meta.db_table, TimeOff._meta.db_table
    sessions, closures = Session._meta.db_table, ClinicClosure._meta.db_table
    live = "status <> %(cancelled)s AND NOT (id = ANY(%(exclude)s))"
    return f"""
        SELECT 'h', practitioner_id, weekday, "start", "end",
               NULL::timestamptz, NULL::timestamptz, NULL::date
          FROM {hours} WHERE practitioner_id = ANY(%(ids)s)
        UNION ALL
        SELECT 'o', practitioner_id, NULL, NULL, NULL, "start", "end", NULL
          FROM {off}
         WHERE practitioner_id = ANY(%(ids)s) AND "start" < %(end)s AND "end" > %(start)s
        UNION ALL
        SELECT 's', practitioner_id, NULL, NULL, NULL, "start", "end", NULL
          FROM {sessions}
         WHERE practitioner_id = ANY(%(ids)s) AND "start" < %(end)s AND "end" > %(start)s
           AND "start" > %(floor)s AND {live}
        UNION ALL
        SELECT 'c', NULL, NULL, NULL, NULL, NULL, NULL, "date"
          FROM {closures} WHERE "date" >= %(day_from)s AND "date" <= %(day_to)s
        UNION ALL
        SELECT 'p', NULL, NULL, NULL, NULL, "start", "end", NULL
          FROM {sessions}
         WHERE patient_id = %(patient)s
           AND "start" < %(patient_end)s AND "end" > %(patient_start)s
           AND "start" > %(patient_floor)s AND {live}
    """  # noqa: S608 - table names from the models; every value is a parameter


def bookable_bounds(now: datetime, rules: BookingRules) -> tuple[datetime, datetime]:
    """Earliest and latest start of a course's first session."""
    return now + rules.min_notice, now + rules.horizon


def free_slots(
    *,
    treatment: Treatment,
    day_from: date,
    day_to: date,
    now: datetime,
    practitioners: Sequence[Practitioner] | None = None,
    patient: Patient | None = None,
    earliest: datetime | None = None,
    latest: datetime | None = None,
    exclude_session_ids: Sequence[int] = (),
    rules: BookingRules | None = None,
) -> list[Slot]:
    """Free slots for `treatment` between local dates, for some practitioners or all."""
    rules = rules or BookingRules.current()
    if practitioners is None:
        practitioners = practitioners_for(treatment)
    if not practitioners:
        return []
    default_earliest, default_latest = bookable_bounds(now, rules)
    found = schedule(
        practitioners=practitioners,
        day_from=day_from,
        day_to=day_to,
        buffer=rules.buffer,
        patient=patient,
        exclude_session_ids=exclude_session_ids,
    )
    return slots_available(
        calendars=found.calendars,
        duration=timedelta(minutes=treatment.appointment_minutes),
        day_from=day_from,
        day_to=day_to,
        zone=clinic_zone(),
        earliest=max(earliest or default_earliest, now + rules.min_notice),
        latest=latest or default_latest,
        step=rules.step,
        buffer=rules.buffer,
        closures=found.closures,
        patient_busy=found.patient_busy,
    )


def slot_finder(
    *,
    treatment: Treatment,
    practitioner: Practitioner,
    now: datetime,
    patient: Patient | None = None,
    exclude_session_ids: Sequence[int] = (),
    rules: BookingRules | None = None,
) -> FindSlots:
    """For course planning: later sessions may fall beyond the first-session horizon."""
    rules = rules or BookingRules.current()
    everyone = None

    def find(day_from: date, day_to: date, only: Sequence[int] | None) -> list[Slot]:
        nonlocal everyone
        if everyone is None:
            everyone = practitioners_for(treatment)
        chosen = [p for p in everyone if only is None or p.pk in only]
        chosen.sort(key=lambda p: p.pk != practitioner.pk)
        return free_slots(
            treatment=treatment,
            day_from=day_from,
            day_to=day_to,
            now=now,
            practitioners=chosen,
            patient=patient,
            latest=end_of_day(day_to, clinic_zone()),
            exclude_session_ids=exclude_session_ids,
            rules=rules,
        )

    return find


def treatment_history(
    *, patient: Patient, treatment: Treatment, now: datetime, exclude_course_id: int | None = None
) -> tuple[int, datetime | None]:
    """For the across-course rules: the patient's open courses of `treatment` (a session still
    to come is booked), and the start of their last attended or booked session of it
    (booking/rulebook.py new_course_breaches)."""
    sessions = Session.objects.filter(course__patient=patient, course__treatment=treatment)
    if exclude_course_id is not None:
        sessions = sessions.exclude(course_id=exclude_course_id)
    found = sessions.aggregate(  # one query
        open=Count("course", filter=Q(status=Session.Status.BOOKED, start__gt=now), distinct=True),
        last=Max("start", filter=Q(status__in=[Session.Status.BOOKED, Session.Status.ATTENDED])),
    )
    return found["open"], found["last"]


def previous_active(session) -> "Session | None":
    """The active session of the same course just before `session` (by number)."""
    return (
        session.course.sessions.active()
        .filter(number__lt=session.number)
        .order_by("-number")
        .first()
    )


@dataclass(frozen=True)
class CourseBreaches:
    course: "Course"
    breaches: list  # booking/rulebook.py Breach


def courses_breaking_rules(*, now: datetime, courses=None) -> list[CourseBreaches]:
    """Every stored course that breaks a booking rule (booking/rulebook.py), oldest first.

    Within a course: order and windows of its active sessions, less the rules
    staff waived for it with a reason; for an open course, its consent (how it
    was given, signed by the first visit when on paper) and health answers.
    Across courses, per patient and
    treatment: more open courses than the clinic allows, and a course whose
    first session comes sooner after the patient's last attended or booked
    session of another course than the treatment's minimum gap. For the
    `course_rules` command, the admin's list, and the tests' database checks.
    """
    from . import rulebook

    rules = BookingRules.current()
    zone = clinic_zone()
    courses = (courses if courses is not None else Course.objects.all()).select_related(
        "treatment", "patient"
    )
    found: dict[int, CourseBreaches] = {}
    groups: dict[tuple[int, int], list] = defaultdict(list)
    for course in courses.prefetch_related("sessions", "treatment__questions").order_by(
        "created_at", "pk"
    ):
        active = sorted(
            (s for s in course.sessions.all() if s.status != Session.Status.CANCELLED),
            key=lambda s: s.number,
        )
        spacing = rulebook.spacing_of(course.treatment)
        breaches = [
            b
            for b in rulebook.course_breaches(((s.number, s.start) for s in active), spacing, zone)
            if b.rule not in course.waived
        ]
        if any(s.status == Session.Status.BOOKED for s in active):  # an open course
            consent = rulebook.consent_breach(
                has_version=course.consent_id is not None,
                method=course.consent_method,
                given=course.consent_given_at is not None,
                first_attended=active[0].status == Session.Status.ATTENDED,
            )
            asked = len(course.treatment.questions.all()) and not course.treatment.is_consultation
            if asked and not (course.suitability_answers or {}).get("questions"):
                breaches.append(rulebook.Breach(rulebook.ANSWERS, "No health answers recorded."))
            if consent:
                breaches.append(consent)
        if breaches:
            found[course.pk] = CourseBreaches(course, breaches)
        if active:
            groups[(course.patient_id, course.treatment_id)].append((course, active))
    for group in groups.values():
        group.sort(key=lambda item: min(s.start for s in item[1]))
        open_seen = 0
        for course, active in group:
            first = min(s.start for s in active)
            spacing = rulebook.spacing_of(course.treatment)
            extra = []
            if any(s.status == Session.Status.BOOKED and s.start > now for s in active):
                open_seen += 1
                if open_seen > rules.courses_per_treatment:
                    extra.append(
                        rulebook.Breach(rulebook.ONE_COURSE, "More open courses than allowed.")
                    )
            before = [
                s.start
                for other, sessions in group
                if other.pk != course.pk
                for s in sessions
                if s.start < first and s.status in (Session.Status.BOOKED, Session.Status.ATTENDED)
            ]
            if before:
                earliest = rulebook.earliest_new_course(max(before), spacing, zone)
                if first.astimezone(zone).date() < earliest:
                    extra.append(
                        rulebook.Breach(
                            rulebook.AFTER_LAST,
                            f"Starts before {earliest:%-d %B %Y}, the treatment's minimum gap "
                            "after the patient's session of another course.",
                            1,
                            earliest=earliest,
                        )
                    )
            if extra:
                entry = found.get(course.pk) or CourseBreaches(course, [])
                found[course.pk] = CourseBreaches(course, entry.breaches + extra)
    return sorted(found.values(), key=lambda e: (e.course.created_at, e.course.pk))


def course_proposal(
    *,
    first: Slot,
    treatment: Treatment,
    sessions: int,
    now: datetime,
    patient: Patient | None = None,
    anyone: bool = False,
    rules: BookingRules | None = None,
) -> list:
    """The course plan (booking/courses.py course_plan) from a chosen first session.

    One practitioner for the whole course where one can take it: the first
    slot's own practitioner keeps every session they have time for, and with
    `anyone` (the patient did not choose), each practitioner free at that same
    first time is tried, and the first who can take every session is chosen.
    Otherwise a session goes to someone else only where the plan says why.
    The journey, phone booking, the demo and the benchmarks all plan here.
    """
    from .courses import course_plan
    from .rulebook import spacing_of

    def plan_with(slot: Slot) -> list:
        return course_plan(
            first=slot,
            sessions=sessions,
            spacing=spacing_of(treatment),
            zone=clinic_zone(),
            find_slots=slot_finder(
                treatment=treatment,
                practitioner=Practitioner(pk=slot.practitioner_id),
                now=now,
                patient=patient,
                rules=rules,
            ),
        )

    plan = plan_with(first)
    if not anyone or _one_practitioner(plan):
        return plan
    day = first.start.astimezone(clinic_zone()).date()
    for other in free_slots(
        treatment=treatment, day_from=day, day_to=day, now=now, patient=patient, rules=rules
    ):
        if other.start == first.start and other.practitioner_id != first.practitioner_id:
            candidate = plan_with(other)
            if _one_practitioner(candidate):
                return candidate
    return plan


def _one_practitioner(plan) -> bool:
    return all(p.slot for p in plan) and len({p.slot.practitioner_id for p in plan}) == 1


def week_of_slots(
    *,
    treatment,
    practitioners,
    patient,
    week: date,
    now: datetime,
    earliest=None,
    latest=None,
    exclude_session_ids=(),
    rules=None,
    one_per_time: bool = True,
) -> list[tuple[date, list]]:
    """(day, [slot, ...]) for the 7 days of `week`; one slot per start time, or (not
    `one_per_time`) each practitioner's, for a page that names whom each time is with."""
    found = free_slots(
        treatment=treatment,
        day_from=week,
        day_to=week + timedelta(days=6),
        now=now,
        practitioners=practitioners,
        patient=patient,
        earliest=earliest,
        latest=latest,
        exclude_session_ids=exclude_session_ids,
        rules=rules,
    )
    zone = clinic_zone()
    days = {week + timedelta(days=n): [] for n in range(7)}
    seen = set()
    for slot in found:  # sorted by start, then practitioner: the first one wins a time
        if one_per_time and slot.start in seen:
            continue
        seen.add(slot.start)
        days[slot.start.astimezone(zone).date()].append(slot)
    return list(days.items())
