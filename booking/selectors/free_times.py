"""Free times: the one availability read (availability_inputs) and the slot finder on it.

availability_inputs is one statement whatever the number of sessions in the
database: practitioners' working hours, their time off, their sessions, the
clinic's closures, and (when booking for someone) the patient's sessions. The
slot finder, the course planner and the staff schedule all read through it.
"""

import functools
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import connection

from clinic import caching
from education.models import Treatment

from .. import picker
from ..availability import Calendar, Interval, Shift, Slot, slots_available
from ..courses import FindSlots, end_of_day
from ..models import (
    LONGEST_SESSION,
    BookingRules,
    ClinicClosure,
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


def practitioners_for(treatment: Treatment) -> list[Practitioner]:
    """Active practitioners who offer `treatment`: kept until a practitioner is saved."""
    return caching.read_through(
        caching.PRACTITIONERS_FOR,
        str(treatment.pk),
        lambda: list(Practitioner.objects.filter(is_active=True, treatments=treatment)),
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


def slot_picker(
    *,
    treatment,
    practitioners,
    patient,
    now: datetime,
    first_day: date,
    last_day: date,
    day: date | None = None,
    start: date | None = None,
    earliest=None,
    latest=None,
    exclude_session_ids=(),
    rules=None,
    one_per_time: bool = True,
    keep=(),
    current: Slot | None = None,
) -> picker.Picker:
    """The time picker (booking/picker.py) over free times from `first_day` to `last_day`:
    one query a strip of days. One slot per start time, or (not `one_per_time`) each
    practitioner's, for a page that offers several practitioners at the same time."""
    zone = clinic_zone()

    def fetch(day_from: date, day_to: date):
        found = free_slots(
            treatment=treatment,
            day_from=day_from,
            day_to=day_to,
            now=now,
            practitioners=practitioners,
            patient=patient,
            earliest=earliest,
            latest=latest,
            exclude_session_ids=exclude_session_ids,
            rules=rules,
        )
        return picker.by_day(found, zone, one_per_time=one_per_time)

    return picker.pick(
        fetch,
        first_day=first_day,
        last_day=last_day,
        zone=zone,
        day=day,
        start=start,
        keep=keep,
        names={p.pk: p.display_name for p in practitioners},
        current=current,
    )


def slot_is_free(
    slot: Slot,
    *,
    treatment: Treatment,
    practitioners: Sequence[Practitioner],
    patient: Patient | None,
    now: datetime,
    earliest: datetime | None = None,
    latest: datetime | None = None,
    exclude_session_ids: Sequence[int] = (),
    rules: BookingRules | None = None,
) -> bool:
    """Whether `slot` is still one of the free times offered (a posted choice, checked);
    `exclude_session_ids`: sessions that would make way (the one being moved)."""
    day = slot.start.astimezone(clinic_zone()).date()
    found = free_slots(
        treatment=treatment,
        day_from=day,
        day_to=day,
        now=now,
        practitioners=practitioners,
        patient=patient,
        earliest=earliest,
        latest=latest,
        exclude_session_ids=exclude_session_ids,
        rules=rules,
    )
    return slot in set(found)
