"""Course planning: a pure function from a chosen first slot to every session.

A course is a treatment plan, not a repeat rule. Session k+1 goes at the
treatment's preferred gap after session k, at the same local wall time (so a
10:00 session stays 10:00 across a DST change, and whole weeks keep the
weekday). When that time is taken, the nearest free slot inside the window
[k + minimum gap, k + maximum gap] is proposed, the same practitioner first.
Every session is checked, not just the first two.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.utils.translation import gettext

from .availability import Slot, local_datetime


@dataclass(frozen=True)
class Spacing:
    min_days: int
    preferred_days: int
    max_days: int


@dataclass(frozen=True)
class Window:
    """The local dates (inclusive) a session may fall on, given the one before."""

    first_day: date
    last_day: date

    def holds(self, moment: datetime, zone: ZoneInfo) -> bool:
        return self.first_day <= moment.astimezone(zone).date() <= self.last_day

    def ends_at(self, zone: ZoneInfo) -> datetime:
        """Midnight after the window's last day: the latest a session may start."""
        return end_of_day(self.last_day, zone)


@dataclass(frozen=True)
class PlannedSession:
    number: int  # 1-based place in the course
    slot: Slot | None  # None: nothing free inside the window
    window: Window | None  # None for the first session
    preferred: datetime | None  # the time the preferred gap gives
    reason: str = ""  # why it is not at the preferred time, in the patient's words

    @property
    def moved(self) -> bool:
        return (
            self.slot is not None
            and self.preferred is not None
            and self.slot.start != self.preferred
        )


def end_of_day(day: date, zone: ZoneInfo) -> datetime:
    return datetime.combine(day + timedelta(days=1), time(0), tzinfo=zone)


# (day_from, day_to, practitioner ids or None for "any") -> free slots, by start
FindSlots = Callable[[date, date, Sequence[int] | None], list[Slot]]


def session_window(previous_start: datetime, spacing: Spacing, zone: ZoneInfo) -> Window:
    day = previous_start.astimezone(zone).date()
    return Window(day + timedelta(days=spacing.min_days), day + timedelta(days=spacing.max_days))


def preferred_start(previous_start: datetime, spacing: Spacing, zone: ZoneInfo) -> datetime | None:
    """Same local wall time, `preferred_days` later (None if that wall time does not exist)."""
    local = previous_start.astimezone(zone)
    day = local.date() + timedelta(days=spacing.preferred_days)
    return local_datetime(day, time(local.hour, local.minute), zone)


def nearest(slots: Sequence[Slot], target: datetime) -> Slot | None:
    """The free slot closest in time to `target` (earlier wins a tie)."""
    return min(slots, key=lambda s: (abs(s.start - target), s.start), default=None)


def _choose(slots: list[Slot], target: datetime, practitioner_id: int) -> tuple[Slot | None, str]:
    same = [s for s in slots if s.practitioner_id == practitioner_id]
    for slot in same:
        if slot.start == target:
            return slot, ""
    if exact_other := [s for s in slots if s.start == target]:
        return exact_other[0], gettext(
            "Your practitioner is busy then, so another one is proposed."
        )
    if same:
        return nearest(same, target), gettext(
            "That time is taken, so the nearest free time is proposed."
        )
    if other := nearest(slots, target):
        return other, gettext(
            "Your practitioner has no free time in this window, so another one is proposed."
        )
    return None, gettext("There is no free time in this window. Please call us to arrange it.")


def course_plan(
    *,
    first: Slot,
    sessions: int,
    spacing: Spacing,
    zone: ZoneInfo,
    find_slots: FindSlots,
) -> list[PlannedSession]:
    """Session 1 at `first`, then each later one as the module docstring says.

    `find_slots` answers free slots for local dates; sessions already planned
    here are excluded from its answers by the caller's busy list, and checked
    again below so two sessions of one plan can never touch.
    """
    plan = [PlannedSession(1, first, None, None)]
    previous = first
    for number in range(2, sessions + 1):
        if previous is None:
            plan.append(
                PlannedSession(
                    number, None, None, None, gettext("The session before has no time yet.")
                )
            )
            continue
        window = session_window(previous.start, spacing, zone)
        target = preferred_start(previous.start, spacing, zone) or (
            previous.start + timedelta(days=spacing.preferred_days)
        )
        taken = [p.slot for p in plan if p.slot]
        free = [
            s
            for s in find_slots(window.first_day, window.last_day, None)
            if window.holds(s.start, zone)
            and not any(s.start < t.end and t.start < s.end for t in taken)
        ]
        slot, reason = _choose(free, target, first.practitioner_id)
        plan.append(PlannedSession(number, slot, window, target, reason))
        previous = slot
    return plan


def course_replan(
    *,
    starts: Sequence[datetime],
    changed: int,
    spacing: Spacing,
    zone: ZoneInfo,
    practitioner_id: int,
    find_slots: FindSlots,
) -> list[PlannedSession]:
    """After session `changed` (1-based) moved, the later sessions outside their window.

    Returns a proposal for each later session whose window (from the one
    before it, as it now stands) no longer holds it; an empty list means the
    rest of the course still fits.
    """
    current = list(starts)
    proposals = []
    for index in range(changed, len(current)):
        window = session_window(current[index - 1], spacing, zone)
        if window.holds(current[index], zone):
            continue
        target = preferred_start(current[index - 1], spacing, zone) or (
            current[index - 1] + timedelta(days=spacing.preferred_days)
        )
        free = [
            s
            for s in find_slots(window.first_day, window.last_day, None)
            if window.holds(s.start, zone)
        ]
        slot, reason = _choose(free, target, practitioner_id)
        proposals.append(
            PlannedSession(
                index + 1, slot, window, target, reason or gettext("The session before it moved.")
            )
        )
        if slot is None:
            break
        current[index] = slot.start
    return proposals
