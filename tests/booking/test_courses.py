"""Course planning: a treatment plan, checked session by session, in wall time."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from booking.availability import Calendar, Interval, Shift, slots_available
from booking.courses import Spacing, course_plan, course_replan, session_window

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
EVERY_DAY = tuple(Shift(d, time(9), time(17)) for d in range(7))
WEEKDAYS = tuple(Shift(d, time(9), time(17)) for d in range(5))
MONTHLY = Spacing(28, 28, 42)


def finder(calendars, zone=LONDON, duration=60):
    def find(day_from, day_to, only):
        chosen = [c for c in calendars if only is None or c.practitioner_id in only]
        return slots_available(
            calendars=chosen,
            duration=timedelta(minutes=duration),
            day_from=day_from,
            day_to=day_to,
            zone=zone,
            earliest=datetime(2000, 1, 1, tzinfo=UTC),
            latest=datetime(2100, 1, 1, tzinfo=UTC),
            step=timedelta(minutes=15),
        )

    return find


def first_slot(calendars, day, hour, zone=LONDON, practitioner_id=1):
    found = finder(calendars, zone)(day, day, [practitioner_id])
    return next(
        s
        for s in found
        if s.start.astimezone(zone).hour == hour and s.start.astimezone(zone).minute == 0
    )


def wall(slot, zone=LONDON):
    return slot.start.astimezone(zone).strftime("%a %d %b %H:%M")


@pytest.mark.parametrize(
    ("zone", "first_day", "hour"),
    [
        (LONDON, date(2026, 2, 20), 10),  # across the March change (spring forward)
        (LONDON, date(2026, 9, 25), 10),  # across the October change (fall back)
        (NEW_YORK, date(2026, 2, 20), 10),  # New York changes on other dates
        (NEW_YORK, date(2026, 10, 16), 16),
    ],
)
def test_every_session_keeps_the_local_time_and_weekday_across_dst(zone, first_day, hour):
    calendars = [Calendar(1, EVERY_DAY)]
    plan = course_plan(
        first=first_slot(calendars, first_day, hour, zone),
        sessions=4,
        spacing=MONTHLY,
        zone=zone,
        find_slots=finder(calendars, zone),
    )
    local = [p.slot.start.astimezone(zone) for p in plan]
    assert [t.hour for t in local] == [hour] * 4
    assert {t.weekday() for t in local} == {first_day.weekday()}
    assert [p.moved for p in plan] == [False] * 4
    offsets = {t.utcoffset() for t in local}
    assert len(offsets) == 2  # the UTC time really changed: the wall time did not


def test_a_taken_preferred_time_moves_to_the_nearest_free_one_with_a_reason():
    taken = datetime(2026, 7, 1, 10, tzinfo=LONDON)  # 4 weeks after 3 June 10:00
    calendars = [Calendar(1, EVERY_DAY, sessions=(Interval(taken, taken + timedelta(hours=1)),))]
    plan = course_plan(
        first=first_slot(calendars, date(2026, 6, 3), 10),
        sessions=3,
        spacing=MONTHLY,
        zone=LONDON,
        find_slots=finder(calendars),
    )
    assert wall(plan[1].slot) in {"Wed 01 Jul 09:00", "Wed 01 Jul 11:00"}
    assert plan[1].moved and "nearest free time" in plan[1].reason
    # Session 3 is planned from where session 2 really is.
    assert plan[2].preferred == plan[1].slot.start.astimezone(LONDON) + timedelta(days=28)


def test_a_busy_practitioner_hands_the_session_to_another_at_the_same_time():
    day = datetime(2026, 7, 1, tzinfo=LONDON)
    full_day = Interval(day, day + timedelta(days=1))
    calendars = [Calendar(1, EVERY_DAY, time_off=(full_day,)), Calendar(2, EVERY_DAY)]
    plan = course_plan(
        first=first_slot(calendars, date(2026, 6, 3), 10),
        sessions=2,
        spacing=MONTHLY,
        zone=LONDON,
        find_slots=finder(calendars),
    )
    assert plan[1].slot.practitioner_id == 2
    assert wall(plan[1].slot) == "Wed 01 Jul 10:00"
    assert "another one" in plan[1].reason


def test_a_window_with_no_free_time_says_so_and_later_sessions_wait():
    june = datetime(2026, 6, 20, tzinfo=LONDON)
    calendars = [Calendar(1, EVERY_DAY, time_off=(Interval(june, june + timedelta(days=60)),))]
    plan = course_plan(
        first=first_slot(calendars, date(2026, 6, 3), 10),
        sessions=3,
        spacing=MONTHLY,
        zone=LONDON,
        find_slots=finder(calendars),
    )
    assert plan[1].slot is None and "call us" in plan[1].reason
    assert plan[2].slot is None


def test_weekend_preferred_day_moves_inside_the_window():
    calendars = [Calendar(1, WEEKDAYS)]
    first = first_slot(calendars, date(2026, 6, 5), 10)  # a Friday
    plan = course_plan(
        first=first,
        sessions=2,
        spacing=Spacing(21, 24, 28),
        zone=LONDON,
        find_slots=finder(calendars),
    )  # 24 days later is a Monday... fine
    assert session_window(first.start, Spacing(21, 24, 28), LONDON).holds(
        plan[1].slot.start, LONDON
    )


def test_replan_finds_the_sessions_that_fall_out_of_their_window():
    calendars = [Calendar(1, EVERY_DAY)]
    starts = [
        datetime(2026, 6, 3, 10, tzinfo=LONDON),
        datetime(2026, 7, 1, 10, tzinfo=LONDON),
        datetime(2026, 7, 29, 10, tzinfo=LONDON),
    ]
    moved = starts.copy()
    moved[1] = datetime(2026, 7, 14, 10, tzinfo=LONDON)  # 41 days after session 1: allowed
    proposals = course_replan(
        starts=moved,
        changed=2,
        spacing=MONTHLY,
        zone=LONDON,
        practitioner_id=1,
        find_slots=finder(calendars),
    )
    assert [p.number for p in proposals] == [3]  # 15 days after: too soon
    assert wall(proposals[0].slot) == "Tue 11 Aug 10:00"
    assert (
        course_replan(
            starts=starts,
            changed=2,
            spacing=MONTHLY,
            zone=LONDON,
            practitioner_id=1,
            find_slots=finder(calendars),
        )
        == []
    )


@settings(max_examples=60, deadline=None)
@given(
    first_day=st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    hour=st.integers(9, 15),
    sessions=st.integers(2, 6),
    gaps=st.tuples(st.integers(1, 35), st.integers(0, 10), st.integers(0, 10)),
    zone=st.sampled_from([LONDON, NEW_YORK]),
    busy_days=st.sets(st.integers(0, 250), max_size=40),
)
def test_every_planned_session_is_inside_its_window(
    first_day, hour, sessions, gaps, zone, busy_days
):
    spacing = Spacing(gaps[0], gaps[0] + gaps[1], gaps[0] + gaps[1] + gaps[2])
    start = datetime.combine(first_day, time(0), tzinfo=zone)
    off = tuple(
        Interval(start + timedelta(days=d), start + timedelta(days=d, hours=20))
        for d in busy_days
        if d
    )
    calendars = [Calendar(1, EVERY_DAY, time_off=off), Calendar(2, EVERY_DAY)]
    plan = course_plan(
        first=first_slot(calendars, first_day, hour, zone),
        sessions=sessions,
        spacing=spacing,
        zone=zone,
        find_slots=finder(calendars, zone),
    )
    assert len(plan) == sessions
    for before, after in zip(plan, plan[1:], strict=False):
        if before.slot is None or after.slot is None:
            continue
        assert session_window(before.slot.start, spacing, zone).holds(after.slot.start, zone)
        assert after.slot.start >= before.slot.end
        if not after.moved:
            assert (
                after.slot.start.astimezone(zone).time()
                == before.slot.start.astimezone(zone).time()
            )
