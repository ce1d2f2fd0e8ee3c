"""The time picker's shape: a strip of days, then one day's times by part of the day.

Pure functions over free slots (booking/availability.py), free of the
database and of requests: the selector (selectors.slot_picker) fetches a
strip's slots and the pages render what comes back here.

- The strip is a run of at most STRIP_DAYS days, counted from the first day
  the page may offer (so it never opens on days already past), each with how
  many free times it has.
- The day shown is the one asked for, else the first day with a free time.
- Its times come in parts of the day (morning, afternoon, evening), each
  showing at most SHOWN_PER_PART times spread over the part; the rest stay
  behind "more times". A time the page marks (the chosen one, the session's
  current one) is always among those shown.
"""

from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from .availability import Slot
from .journey import slot_value

STRIP_DAYS = 7
SHOWN_PER_PART = 6

# (key, name, first wall time in it); a part runs to the next one's first time.
PARTS = (
    ("morning", _("Morning"), time(0)),
    ("afternoon", _("Afternoon"), time(12)),
    ("evening", _("Evening"), time(17)),
)


@dataclass(frozen=True)
class StripDay:
    day: date
    free: int  # how many free times
    selected: bool

    # What the strip writes for it (the `date` filter costs ~80 µs a call; these, ~1).
    @property
    def iso(self) -> str:
        return self.day.isoformat()

    @property
    def weekday(self) -> str:
        """'Tue' (in the active language)."""
        return str(WEEKDAYS_ABBR[self.day.weekday()])

    @property
    def day_month(self) -> str:
        """'8 Dec' (in the active language)."""
        return f"{self.day.day} {MONTHS_3[self.day.month].title()}"

    @property
    def free_text(self) -> str:
        """'4 times'."""
        return ngettext("%(free)d time", "%(free)d times", self.free) % {"free": self.free}


@dataclass(frozen=True)
class Choice:
    """A free time as the picker offers it: the slot and whom it is with."""

    slot: Slot
    who: str

    @property
    def start(self) -> datetime:
        return self.slot.start

    @property
    def end(self) -> datetime:
        return self.slot.end

    @property
    def value(self) -> str:
        """What a form posts for it (booking.journey.parse_slot reads it back)."""
        return slot_value(self.slot)


@dataclass(frozen=True)
class Part:
    key: str
    name: str
    shown: list[Choice]
    more: list[Choice]


@dataclass(frozen=True)
class Picker:
    strip: list[StripDay]
    day: date  # the day whose times are shown
    parts: list[Part]
    earlier: date | None  # first day of the strip before, if any
    later: date | None  # first day of the strip after, if any
    found_any: bool = True  # False: no free time from the start day to the last one


def strip_start(day: date, first_day: date) -> date:
    """The first day of the strip that holds `day` (strips are counted from `first_day`)."""
    return first_day + timedelta(days=(day - first_day).days // STRIP_DAYS * STRIP_DAYS)


def strip_days(start: date, last_day: date) -> list[date]:
    return [
        start + timedelta(days=n)
        for n in range(STRIP_DAYS)
        if start + timedelta(days=n) <= last_day
    ]


def by_day(slots: Sequence[Slot], zone: ZoneInfo, *, one_per_time: bool) -> dict[date, list[Slot]]:
    """Slots (sorted by start, then practitioner) by local day; with `one_per_time`, the
    first practitioner free at a time stands for it."""
    days: dict[date, list[Slot]] = {}
    seen: set[datetime] = set()
    for slot in slots:
        if one_per_time and slot.start in seen:
            continue
        seen.add(slot.start)
        days.setdefault(slot.start.astimezone(zone).date(), []).append(slot)
    return days


def _free(slots: Sequence[Slot], current: Slot | None) -> int:
    """How many of `slots` are free times (the session's own time is not one)."""
    return sum(1 for s in slots if s != current)


def first_free_day(
    found: Mapping[date, Sequence[Slot]], start: date, current: Slot | None = None
) -> date | None:
    return min(
        (d for d, slots in found.items() if d >= start and _free(slots, current)), default=None
    )


def spread(slots: Sequence[Slot], count: int, keep: Collection[datetime] = ()) -> list[Slot]:
    """At most `count` of `slots` (in order) spread evenly from the first to the last,
    always including any whose start is in `keep`."""
    if len(slots) <= count:
        return list(slots)
    kept = {i for i, s in enumerate(slots) if s.start in keep}
    room = max(count - len(kept), 1)
    step = (len(slots) - 1) / max(room - 1, 1)
    picked = {round(n * step) for n in range(room)}
    return [s for i, s in enumerate(slots) if i in picked | kept]


def day_parts(
    slots: Sequence[Slot],
    zone: ZoneInfo,
    keep: Collection[datetime] = (),
    names: Mapping[int, str] | None = None,
) -> list[Part]:
    """One day's slots as its parts of the day (only parts with times), each time with
    the name of whom it is with (`names`: practitioner id -> name)."""
    names = names or {}
    parts = []
    for index, (key, name, first) in enumerate(PARTS):
        until = PARTS[index + 1][2] if index + 1 < len(PARTS) else None
        inside = [
            s
            for s in slots
            if first <= s.start.astimezone(zone).time()
            and (until is None or s.start.astimezone(zone).time() < until)
        ]
        if not inside:  # only the parts with times
            continue
        shown = spread(inside, SHOWN_PER_PART, keep)
        shown_starts = {(s.start, s.practitioner_id) for s in shown}
        more = [s for s in inside if (s.start, s.practitioner_id) not in shown_starts]
        parts.append(
            Part(
                key,
                str(name),
                [Choice(s, names.get(s.practitioner_id, "")) for s in shown],
                [Choice(s, names.get(s.practitioner_id, "")) for s in more],
            )
        )
    return parts


def build(
    found: Mapping[date, Sequence[Slot]],
    *,
    strip: date,
    day: date,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    keep: Collection[datetime] = (),
    names: Mapping[int, str] | None = None,
    found_any: bool = True,
    current: Slot | None = None,
) -> Picker:
    """The picker for the strip starting `strip`, showing `day`'s times; `found` holds at
    least that strip's free slots by day."""
    days = strip_days(strip, last_day)
    earlier = strip - timedelta(days=STRIP_DAYS)
    later = strip + timedelta(days=STRIP_DAYS)
    return Picker(
        strip=[StripDay(d, _free(found.get(d, ()), current), d == day) for d in days],
        day=day,
        parts=day_parts(found.get(day, ()), zone, keep, names),
        earlier=earlier if strip > first_day else None,
        later=later if later <= last_day else None,
        found_any=found_any,
    )


Fetch = Callable[[date, date], Mapping[date, Sequence[Slot]]]


def pick(
    fetch: Fetch,
    *,
    first_day: date,
    last_day: date,
    zone: ZoneInfo,
    day: date | None = None,
    start: date | None = None,
    keep: Collection[datetime] = (),
    names: Mapping[int, str] | None = None,
    current: Slot | None = None,
) -> Picker:
    """The picker between `first_day` and `last_day`: showing `day` when it is one of
    them, else the first day with a free time on or after `start` (`first_day` when not
    given). `fetch(first, last)` gives the free slots of those days by day; it is called
    once a strip, until a strip with a free time (or `last_day`) is reached.

    `keep`: starts always shown (the chosen time). `current`: a moving session's own
    time, shown and marked where it is free, but neither counted as a free time nor a
    reason to open on its day."""
    if current is not None:
        keep = (*keep, current.start)
    if last_day < first_day:
        last_day = first_day
    if day is not None and first_day <= day <= last_day:
        strip = strip_start(day, first_day)
        return build(
            fetch(strip, _strip_end(strip, last_day)),
            strip=strip,
            day=day,
            first_day=first_day,
            last_day=last_day,
            zone=zone,
            keep=keep,
            names=names,
            current=current,
        )
    start = min(max(start or first_day, first_day), last_day)
    strip = probe = strip_start(start, first_day)
    found = fetch(strip, _strip_end(strip, last_day))
    shown = first_free_day(found, start, current)
    while shown is None and (probe := probe + timedelta(days=STRIP_DAYS)) <= last_day:
        later = fetch(probe, _strip_end(probe, last_day))
        if (shown := first_free_day(later, probe, current)) is not None:
            strip, found = probe, later
    if shown is None:  # none from `start` on: the strip's last day with times, if any
        shown = max((d for d, slots in found.items() if _free(slots, current)), default=None)
    return build(
        found,
        strip=strip,
        day=shown or start,
        first_day=first_day,
        last_day=last_day,
        zone=zone,
        keep=keep,
        names=names,
        found_any=shown is not None,
        current=current,
    )


def _strip_end(strip: date, last_day: date) -> date:
    return min(strip + timedelta(days=STRIP_DAYS - 1), last_day)
