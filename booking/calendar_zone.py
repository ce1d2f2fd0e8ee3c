"""The VTIMEZONE a calendar file carries: the clinic zone's changes, written as RFC 5545 says.

RFC 5545 (3.6.5) gives each observance's onset (DTSTART, RDATE) as a local
time in the offset in force *before* it (TZOFFSETFROM). icalendar 7.3's
`Timezone.from_tzid` writes the onset of every change that moves the clock
forward in the new offset instead: Europe/London's start of summer time as
02:00 with TZOFFSETFROM +0000, an hour after the real change at 01:00. A
calendar app that follows the RFC would put a session booked for that
night's early hours an hour out. Here the changes come from the zone itself
(zoneinfo), found to the second, and each is written in the old offset. The
first observance starts on the first day asked for, with the offset that
applied before it as TZOFFSETFROM (so a reader that works out "daylight
saving" from FROM and TO, as dateutil's tzical does, gets it right from the start).

Pure: zone name and dates in, an icalendar component out. Checked against a
second parser (dateutil.tz.tzical and vobject) in tests/booking/test_calendar_zone.py.
"""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Timezone, TimezoneDaylight, TimezoneStandard

DAY = timedelta(days=1)
# Searched a week at a time: no zone has changed its offset twice within a week.
STEP = timedelta(days=7)


@dataclass(frozen=True)
class Change:
    at: datetime  # the instant, in UTC
    before: timedelta  # the UTC offset until then
    after: timedelta  # and from then on
    name: str  # the zone's abbreviation after it, e.g. "BST"
    daylight: bool  # summer time after it


def _offset(zone: ZoneInfo, instant: datetime) -> timedelta:
    return instant.astimezone(zone).utcoffset()


def _instant_of_change(zone: ZoneInfo, low: datetime, high: datetime) -> datetime:
    """The first second in (low, high] with the offset `high` has (one change between)."""
    target = _offset(zone, high)
    while high - low > timedelta(seconds=1):
        middle = low + (high - low) / 2
        middle = middle.replace(microsecond=0)
        if middle <= low:
            break
        if _offset(zone, middle) == target:
            high = middle
        else:
            low = middle
    return high


@lru_cache(maxsize=32)  # pure; a file for the same years asks again
def changes(zone: ZoneInfo, start: datetime, end: datetime) -> tuple[Change, ...]:
    """Every change of UTC offset in [start, end), found a week at a time, then to the
    second."""
    found, moment = [], start
    offset = _offset(zone, moment)
    while moment < end:
        following = min(moment + STEP, end)
        if (next_offset := _offset(zone, following)) != offset:
            at = _instant_of_change(zone, moment, following)
            local = at.astimezone(zone)
            found.append(Change(at, offset, next_offset, local.tzname() or "", bool(local.dst())))
            offset = next_offset
        moment = following
    return tuple(found)


def _observance(daylight: bool, onset: datetime, before, after, name: str):
    component = TimezoneDaylight() if daylight else TimezoneStandard()
    component.add("dtstart", onset)  # naive: a local time, in the offset before it
    component.add("tzoffsetfrom", before)
    component.add("tzoffsetto", after)
    if name:
        component.add("tzname", name)
    return component


def vtimezone(name: str, first: date, last: date) -> Timezone:
    """The VTIMEZONE for `name` from the start of `first` to the end of `last`."""
    zone = ZoneInfo(name)
    start = datetime.combine(first, time(), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(last + DAY, time(), tzinfo=zone).astimezone(UTC)
    # The offset in force at the start, and the one before it (its TZOFFSETFROM).
    earlier = changes(zone, start - 400 * DAY, start)
    at_start = start.astimezone(zone)
    before = earlier[-1].before if earlier else at_start.utcoffset()
    timezone_ = Timezone()
    timezone_.add("tzid", name)
    timezone_.add_component(
        _observance(
            bool(at_start.dst()),
            datetime.combine(first, time()),  # midnight: nothing is said of times before
            before,
            at_start.utcoffset(),
            at_start.tzname() or "",
        )
    )
    for change in changes(zone, start, end):
        onset = (change.at + change.before).replace(tzinfo=None)
        timezone_.add_component(
            _observance(change.daylight, onset, change.before, change.after, change.name)
        )
    return timezone_
