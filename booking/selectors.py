"""Reads that feed the pure availability and planning functions.

The availability read (availability_inputs) is one statement whatever the
number of sessions in the database: practitioners' working hours, their time
off, their sessions, the clinic's closures, and (when booking for someone) the
patient's sessions. The slot finder, the course planner and the staff schedule
all read through it.
"""

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection
from django.db.models import BooleanField, Case, Count, Max, Q, Value, When
from django.utils.translation import gettext

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
from .schedule import Away, Entry, Roster, ScheduleData, day_bounds, span


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


@dataclass(frozen=True)
class AvailabilityInputs:
    """What the database says about the time around some dates: each practitioner's
    calendar (shifts, sessions, time off), the closed days, and the patient's sessions.
    `away` and `closed` keep the time off's reasons and the closures' names for the
    staff schedule (booking/schedule.py)."""

    calendars: list[Calendar]
    closures: set[date]
    patient_busy: list[Interval]
    away: dict[int, list[tuple[datetime, datetime, str]]]
    closed: dict[date, str]


def availability_inputs(
    *,
    practitioner_ids: Sequence[int],
    day_from: date,
    day_to: date,
    buffer: timedelta,
    patient: Patient | None = None,
    exclude_session_ids: Sequence[int] = (),
) -> AvailabilityInputs:
    """The one availability read, for the slot finder, the course planner and the staff
    schedule: working hours, time off, active sessions (less `exclude_session_ids`),
    closures and the patient's active sessions, in one statement.

    Written as SQL because the five querysets cost ~3.5 ms of CPU to compile on every
    week view and planned session, the statement ~0.6 ms (measured 2026-12-03). The same
    statement runs on PostgreSQL and SQLite (make run's default);
    tests/booking/test_availability_read.py checks it on both. Every overlap read bounds
    "start" from below by LONGEST_SESSION, so the indexes scan only nearby sessions.
    """
    zone = clinic_zone()
    start, end = _span(day_from, day_to, zone, buffer + timedelta(days=1))
    patient_start, patient_end = _span(day_from, day_to, zone, timedelta(days=1))
    adapt = connection.ops.adapt_datetimefield_value
    ids = {f"id{n}": pk for n, pk in enumerate(practitioner_ids)}
    exclude = {f"x{n}": pk for n, pk in enumerate(exclude_session_ids)}
    params = {
        **ids,
        **exclude,
        "start": adapt(start),
        "end": adapt(end),
        "floor": adapt(start - LONGEST_SESSION),
        "cancelled": Session.Status.CANCELLED.value,
        "day_from": day_from,
        "day_to": day_to,
        "patient": patient.pk if patient is not None else None,
        "patient_start": adapt(patient_start),
        "patient_end": adapt(patient_end),
        "patient_floor": adapt(patient_start - LONGEST_SESSION),
    }
    shifts, offs, busy = defaultdict(list), defaultdict(list), defaultdict(list)
    away, closed, mine = defaultdict(list), {}, []
    with connection.cursor() as cursor:
        cursor.execute(_availability_sql(len(ids), len(exclude)), params)
        for kind, pid, weekday, shift_start, shift_end, s, e, day, label in cursor.fetchall():
            s, e = _aware(s), _aware(e)
            if kind == "h":
                shifts[pid].append(Shift(weekday, shift_start, shift_end))
            elif kind == "o":
                offs[pid].append(Interval(s, e))
                away[pid].append((s, e, label))
            elif kind == "s":
                busy[pid].append(Interval(s, e))
            elif kind == "c":
                closed[day] = label
            else:
                mine.append(Interval(s, e))
    return AvailabilityInputs(
        calendars=[
            Calendar(pid, tuple(shifts[pid]), tuple(busy[pid]), tuple(offs[pid]))
            for pid in practitioner_ids
        ],
        closures=set(closed),
        patient_busy=mine,
        away=dict(away),
        closed=closed,
    )


def _aware(value: datetime | None) -> datetime | None:
    """SQLite hands back UTC datetimes without their zone; PostgreSQL with it."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


@functools.cache
def _availability_sql(practitioners: int, excluded: int) -> str:
    """The five reads as one UNION ALL: (kind, then each read's columns). The column
    names in brackets tell SQLite which converter to use (PostgreSQL types its own)."""
    hours, off = WorkingHours._meta.db_table, TimeOff._meta.db_table
    sessions, closures = Session._meta.db_table, ClinicClosure._meta.db_table
    ids = ", ".join(f"%(id{n})s" for n in range(practitioners)) or "NULL"
    live = "status <> %(cancelled)s"
    if excluded:
        live += " AND id NOT IN (" + ", ".join(f"%(x{n})s" for n in range(excluded)) + ")"
    return f"""
        SELECT 'h' AS kind, practitioner_id, weekday, "start", "end",
               CAST(NULL AS timestamptz) AS "at_start [timestamp]",
               CAST(NULL AS timestamptz) AS "at_end [timestamp]",
               CAST(NULL AS date) AS "day [date]", CAST(NULL AS varchar) AS label
          FROM {hours} WHERE practitioner_id IN ({ids})
        UNION ALL
        SELECT 'o', practitioner_id, NULL, NULL, NULL, "start", "end", NULL, reason
          FROM {off}
         WHERE practitioner_id IN ({ids}) AND "start" < %(end)s AND "end" > %(start)s
        UNION ALL
        SELECT 's', practitioner_id, NULL, NULL, NULL, "start", "end", NULL, NULL
          FROM {sessions}
         WHERE practitioner_id IN ({ids}) AND "start" < %(end)s AND "end" > %(start)s
           AND "start" > %(floor)s AND {live}
        UNION ALL
        SELECT 'c', NULL, NULL, NULL, NULL, NULL, NULL, "date", name
          FROM {closures} WHERE "date" >= %(day_from)s AND "date" <= %(day_to)s
        UNION ALL
        SELECT 'p', NULL, NULL, NULL, NULL, "start", "end", NULL, NULL
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
    found = availability_inputs(
        practitioner_ids=[p.pk for p in practitioners],
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
                breaches.append(
                    rulebook.Breach(rulebook.ANSWERS, gettext("No health answers recorded."))
                )
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
                        rulebook.Breach(
                            rulebook.ONE_COURSE, gettext("More open courses than allowed.")
                        )
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
                            gettext(
                                "Starts before %(date)s, the treatment's minimum gap "
                                "after the patient's session of another course."
                            )
                            % {"date": f"{earliest:%-d %B %Y}"},
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


def patient_of(user) -> Patient | None:
    """The signed-in user's patient record, if they have one."""
    if not user.is_authenticated:
        return None
    return Patient.objects.filter(user=user).first()


def slot_is_free(
    slot: Slot,
    *,
    treatment: Treatment,
    practitioners: Sequence[Practitioner],
    patient: Patient | None,
    now: datetime,
) -> bool:
    """Whether `slot` is still one of the free times offered (a posted choice, checked)."""
    day = slot.start.astimezone(clinic_zone()).date()
    found = free_slots(
        treatment=treatment,
        day_from=day,
        day_to=day,
        now=now,
        practitioners=practitioners,
        patient=patient,
    )
    return slot in set(found)


def plan_session_choices(
    *,
    treatment: Treatment,
    slots: Sequence[Slot | None],
    number: int,
    window,
    now: datetime,
    patient: Patient | None,
) -> list[Slot]:
    """Free times for session `number` of a plan inside its window (booking/courses.py
    Window), clashing with none of the plan's other sessions."""
    others = [s for i, s in enumerate(slots) if s and i != number - 1]
    return [
        s
        for s in free_slots(
            treatment=treatment,
            day_from=window.first_day,
            day_to=window.last_day,
            now=now,
            practitioners=practitioners_for(treatment),
            patient=patient,
            latest=window.ends_at(clinic_zone()),
        )
        if not any(s.start < o.end and o.start < s.end for o in others)
    ]


def plan_session_change(
    *,
    treatment: Treatment,
    slots: Sequence[Slot | None],
    number: int,
    slot: Slot,
    now: datetime,
    patient: Patient | None,
) -> tuple[list[Slot | None], list[int]]:
    """The plan with session `number` at `slot`, and the numbers of the later sessions
    moved to keep the gap between sessions (booking/courses.py course_replan)."""
    from .courses import course_replan
    from .rulebook import spacing_of

    changed = list(slots)
    changed[number - 1] = slot
    starts = [s.start if s else None for s in changed]
    if not all(starts):
        return changed, []
    practitioner = Practitioner(pk=changed[0].practitioner_id)
    proposals = course_replan(
        starts=starts,
        changed=number,
        spacing=spacing_of(treatment),
        zone=clinic_zone(),
        practitioner_id=practitioner.pk,
        find_slots=slot_finder(
            treatment=treatment, practitioner=practitioner, now=now, patient=patient
        ),
    )
    for proposal in proposals:
        changed[proposal.number - 1] = proposal.slot
    return changed, [p.number for p in proposals]


def schedule_data(
    *,
    day_from: date,
    day_to: date,
    zone: ZoneInfo,
    cancelled: bool = False,
    only_practitioner: int | None = None,
) -> ScheduleData:
    """What the staff schedule of these local dates shows, in three queries whatever its size.

    Practitioners: the active ones, and any other with a session in the range
    (their sessions must not vanish when they leave); `only_practitioner` is a
    clinician's scope, applied here so nothing else is read. Their hours, time
    off and the closures come from the one availability read; the sessions are
    listed with their patients and courses. The treatments to filter by: those
    the practitioners offer and those of the sessions shown.
    """
    start, end = day_bounds(day_from, zone)[0], day_bounds(day_to, zone)[1]
    sessions = Session.objects.overlapping(start, end)
    if not cancelled:
        sessions = sessions.active()
    practitioners = Practitioner.objects.filter(
        Q(is_active=True) | Q(pk__in=sessions.values("practitioner_id"))
    )
    if only_practitioner is not None:
        practitioners = practitioners.filter(pk=only_practitioner)
        sessions = sessions.filter(practitioner_id=only_practitioner)

    names: dict[int, str] = {}
    treatments: dict[int, str] = {}
    rows = practitioners.order_by("display_name", "pk").values_list(
        "pk", "display_name", "treatments__pk", "treatments__name"
    )
    for pk, name, treatment_id, treatment in rows:
        names[pk] = name
        if treatment_id is not None:
            treatments[treatment_id] = treatment
    found = availability_inputs(
        practitioner_ids=list(names), day_from=day_from, day_to=day_to, buffer=timedelta(0)
    )
    rosters = [
        Roster(
            calendar.practitioner_id,
            names[calendar.practitioner_id],
            tuple(sorted(set(calendar.shifts), key=lambda s: (s.weekday, s.start))),
            tuple(
                sorted(
                    (
                        Away(s, e, reason)
                        for s, e, reason in found.away.get(calendar.practitioner_id, [])
                        if s < end and e > start
                    ),
                    key=lambda away: away.start,
                )
            ),
        )
        for calendar in found.calendars
    ]
    entries = [
        Entry(*row[:5], span(row[3], row[4], zone), *row[5:])  # in Entry's field order
        for row in sessions.annotate(
            consent_to_sign=Case(
                When(
                    course__consent_method="paper",
                    course__consent_given_at__isnull=True,
                    then=Value(True),
                ),
                default=Value(False),
                output_field=BooleanField(),
            )
        )
        .order_by("start", "pk")
        .values_list(
            "pk",
            "practitioner_id",
            "practitioner__display_name",
            "start",
            "end",
            "status",
            "number",
            "course__sessions_planned",
            "patient__full_name",
            "patient__phone",
            "course__treatment_id",
            "course__treatment__name",
            "consent_to_sign",
        )
    ]
    treatments.update((e.treatment_id, e.treatment) for e in entries)
    return ScheduleData(
        rosters, entries, found.closed, sorted(treatments.items(), key=lambda t: (t[1], t[0]))
    )
