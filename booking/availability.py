"""Free slots: a pure function over plain intervals, in the clinic's wall time.

Fed by one query per input (see booking/selectors/) and free of the
database, so it is fast to test with hypothesis. Times come in and go out as
aware datetimes; inside, they are whole seconds since the epoch, which keeps
12 weeks of slots for a practitioner around a millisecond.

Rules:
- a slot lies inside one working-hours row of its local weekday;
- it does not overlap time off, a clinic closure day, or another session
  widened by the buffer on both sides (the room is cleaned between patients);
- it starts on the step grid of its working-hours row, no earlier than
  `earliest` (now + minimum notice) and no later than `latest`;
- a wall time that does not exist (inside a DST gap) is never offered.
"""

import functools
from bisect import bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, order=True)
class Interval:
    start: datetime
    end: datetime


@dataclass(frozen=True)
class Shift:
    """A working-hours row: weekday (Monday 0) and local start and end."""

    weekday: int
    start: time
    end: time


@dataclass(frozen=True)
class Calendar:
    """One practitioner's week and commitments over the range asked about."""

    practitioner_id: int
    shifts: Sequence[Shift]
    sessions: Sequence[Interval] = ()  # booked sessions (widened by the buffer here)
    time_off: Sequence[Interval] = ()


@dataclass(frozen=True, order=True)
class Slot:
    start: datetime
    end: datetime
    practitioner_id: int = field(compare=True)


def local_datetime(day: date, wall: time, zone: ZoneInfo) -> datetime | None:
    """`wall` on `day` in `zone`, or None when that wall time does not exist (DST gap)."""
    naive = datetime.combine(day, wall)
    aware = naive.replace(tzinfo=zone)
    if aware.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
        return None
    return aware


def _ts(moment: datetime) -> int:
    return int(moment.timestamp())


def _blocked(calendar: Calendar, buffer_s: int, extra: Iterable[Interval]) -> list[tuple[int, int]]:
    """Sorted, merged [start, end) second ranges the practitioner cannot be booked in."""
    ranges = [(_ts(s.start) - buffer_s, _ts(s.end) + buffer_s) for s in calendar.sessions]
    ranges += [(_ts(t.start), _ts(t.end)) for t in calendar.time_off]
    ranges += [(_ts(b.start), _ts(b.end)) for b in extra]
    ranges.sort()
    merged: list[tuple[int, int]] = []
    for start, end in ranges:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _free(blocked: list[tuple[int, int]], starts: list[int], start: int, end: int) -> bool:
    i = bisect_right(starts, start) - 1
    if i >= 0 and blocked[i][1] > start:
        return False
    return not (i + 1 < len(blocked) and blocked[i + 1][0] < end)


def _minutes(wall: time) -> int:
    return wall.hour * 60 + wall.minute


_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()


@dataclass(frozen=True)
class _Search:
    """What every shift of one calendar is searched with (whole seconds since the epoch)."""

    zone: ZoneInfo
    duration_s: int
    step_s: int
    earliest_s: int
    latest_s: int
    blocked: list[tuple[int, int]]
    starts: list[int]
    ends: list[int]
    practitioner_id: int


@functools.lru_cache(maxsize=4096)  # the same weeks are searched again and again
def _day_offset(day: date, zone: ZoneInfo) -> int | None:
    """The day's UTC offset in seconds, or None on a day the clocks change."""
    morning = zone.utcoffset(datetime.combine(day, time(0)))
    night = zone.utcoffset(datetime.combine(day, time(23, 59)))
    return int(morning.total_seconds()) if morning == night else None


def slots_available(
    *,
    calendars: Sequence[Calendar],
    duration: timedelta,
    day_from: date,
    day_to: date,
    zone: ZoneInfo,
    earliest: datetime,
    latest: datetime,
    step: timedelta,
    buffer: timedelta = timedelta(0),
    closures: Iterable[date] = (),
    patient_busy: Sequence[Interval] = (),
) -> list[Slot]:
    """Every free slot from `day_from` to `day_to` (local dates, inclusive), by start.

    `patient_busy`: the patient's other sessions (widened by the buffer), so a
    patient is never offered two things at once.
    """
    closed = set(closures)
    patient = [Interval(b.start - buffer, b.end + buffer) for b in patient_busy]
    days = [day_from + timedelta(days=n) for n in range((day_to - day_from).days + 1)]
    days = [(d, _day_offset(d, zone)) for d in days if d not in closed]
    slots: list[Slot] = []
    for calendar in calendars:
        blocked = _blocked(calendar, int(buffer.total_seconds()), patient)
        search = _Search(
            zone,
            int(duration.total_seconds()),
            max(60, int(step.total_seconds()) // 60 * 60),
            _ts(earliest),
            _ts(latest),
            blocked,
            [b[0] for b in blocked],
            [b[1] for b in blocked],
            calendar.practitioner_id,
        )
        by_weekday: dict[int, list[Shift]] = {}
        for shift in calendar.shifts:
            by_weekday.setdefault(shift.weekday, []).append(shift)
        for day, offset in days:
            for shift in by_weekday.get(day.weekday(), ()):
                if offset is None:  # the clocks change today: the careful path
                    slots.extend(_changing_day_slots(day, shift, search))
                else:  # plain arithmetic on the day's one offset
                    midnight = (day.toordinal() - _EPOCH_ORDINAL) * 86400 - offset
                    slots.extend(
                        _gap_slots(
                            midnight + _minutes(shift.start) * 60,
                            midnight + _minutes(shift.end) * 60,
                            search,
                        )
                    )
    slots.sort()
    return slots


def _slot(start_s: int, end_s: int, practitioner_id: int) -> Slot:
    return Slot(
        datetime.fromtimestamp(start_s, UTC), datetime.fromtimestamp(end_s, UTC), practitioner_id
    )


def _gap_slots(shift_start: int, shift_end: int, search: _Search) -> list[Slot]:
    """Grid starts inside each free gap of [shift_start, shift_end)."""
    blocked, step_s, gaps, cursor = search.blocked, search.step_s, [], shift_start
    j = bisect_right(search.ends, shift_start)  # the first block ending after the shift starts
    while j < len(blocked) and blocked[j][0] < shift_end:
        if blocked[j][0] > cursor:
            gaps.append((cursor, blocked[j][0]))
        cursor = max(cursor, blocked[j][1])
        j += 1
    if cursor < shift_end:
        gaps.append((cursor, shift_end))
    out = []
    duration = timedelta(seconds=search.duration_s)
    for gap_start, gap_end in gaps:
        low = max(gap_start, search.earliest_s) - shift_start
        high = min(gap_end - search.duration_s, search.latest_s) - shift_start
        for k in range(-(-low // step_s), high // step_s + 1):  # ceil(low/step)..floor(high/step)
            start = datetime.fromtimestamp(shift_start + k * step_s, UTC)
            out.append(Slot(start, start + duration, search.practitioner_id))
    return out


def _changing_day_slots(day: date, shift: Shift, search: _Search) -> list[Slot]:
    """Candidate by candidate in wall time; wall times inside the gap are skipped."""
    zone = search.zone
    # An end inside a DST gap still names one instant (fold=0), which bounds the shift.
    shift_end_s = _ts(datetime.combine(day, shift.end, tzinfo=zone))
    out = []
    for minute in range(_minutes(shift.start), _minutes(shift.end), search.step_s // 60):
        moment = local_datetime(day, time(minute // 60, minute % 60), zone)
        if moment is None:  # inside the DST gap: that wall time does not exist
            continue
        start_s = _ts(moment)
        end_s = start_s + search.duration_s
        if end_s > shift_end_s:
            break
        if search.earliest_s <= start_s <= search.latest_s and _free(
            search.blocked, search.starts, start_s, end_s
        ):
            out.append(_slot(start_s, end_s, search.practitioner_id))
    return out
