"""Free slots: the pure function, with fixed examples and hypothesis properties."""

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import given, settings
from hypothesis import strategies as st

from booking.availability import Calendar, Interval, Shift, local_datetime, slots_available
from tests.helpers import LONDON, at

NEW_YORK = ZoneInfo("America/New_York")
MONDAY = date(2026, 6, 1)
WEEKDAYS_9_TO_5 = tuple(Shift(d, time(9), time(17)) for d in range(5))
FAR_PAST = datetime(2000, 1, 1, tzinfo=UTC)
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=UTC)


def slots(calendars, day_from=MONDAY, day_to=MONDAY, zone=LONDON, duration=60, **kwargs):
    options = {
        "earliest": FAR_PAST,
        "latest": FAR_FUTURE,
        "step": timedelta(minutes=15),
        "buffer": timedelta(0),
    } | kwargs
    return slots_available(
        calendars=calendars,
        duration=timedelta(minutes=duration),
        day_from=day_from,
        day_to=day_to,
        zone=zone,
        **options,
    )


def local_starts(found, zone=LONDON):
    return [s.start.astimezone(zone).strftime("%H:%M") for s in found]


def test_slots_fill_working_hours_on_the_step_grid():
    found = slots([Calendar(1, WEEKDAYS_9_TO_5)])
    starts = local_starts(found)
    assert starts[0] == "09:00" and starts[1] == "09:15" and starts[-1] == "16:00"
    assert len(starts) == 29
    assert all(s.end - s.start == timedelta(hours=1) for s in found)


def test_no_slots_on_days_off_or_closures():
    calendar = Calendar(1, WEEKDAYS_9_TO_5)
    saturday = MONDAY + timedelta(days=5)
    assert slots([calendar], day_from=saturday, day_to=saturday) == []
    assert slots([calendar], closures={MONDAY}) == []


def test_split_shift_leaves_the_break_free():
    calendar = Calendar(1, (Shift(0, time(9), time(12)), Shift(0, time(14), time(18))))
    starts = local_starts(slots([calendar]))
    assert "11:00" in starts and "11:15" not in starts and "13:00" not in starts
    assert "14:00" in starts and starts[-1] == "17:00"


def test_sessions_block_their_time_plus_the_buffer_on_both_sides():
    booked = Interval(at(6, 1, 11), at(6, 1, 12))
    calendar = Calendar(1, WEEKDAYS_9_TO_5, sessions=(booked,))
    starts = local_starts(slots([calendar], buffer=timedelta(minutes=15)))
    assert "09:45" in starts and "10:00" not in starts  # 10:00-11:00 leaves no buffer
    assert "12:00" not in starts and "12:15" in starts


def test_time_off_blocks_without_a_buffer():
    off = Interval(at(6, 1, 13), at(6, 1, 17))
    starts = local_starts(
        slots([Calendar(1, WEEKDAYS_9_TO_5, time_off=(off,))], buffer=timedelta(minutes=15))
    )
    assert starts[-1] == "12:00"


def test_notice_and_horizon_bound_the_starts():
    found = slots([Calendar(1, WEEKDAYS_9_TO_5)], earliest=at(6, 1, 10, 5), latest=at(6, 1, 12))
    assert local_starts(found) == [
        "10:15",
        "10:30",
        "10:45",
        "11:00",
        "11:15",
        "11:30",
        "11:45",
        "12:00",
    ]


def test_the_patients_other_sessions_are_never_offered_again():
    elsewhere = Interval(at(6, 1, 9), at(6, 1, 16))
    found = slots([Calendar(1, WEEKDAYS_9_TO_5)], patient_busy=[elsewhere])
    assert local_starts(found) == ["16:00"]


def test_any_practitioner_gives_each_ones_slots_in_time_order():
    found = slots(
        [Calendar(1, (Shift(0, time(9), time(10)),)), Calendar(2, (Shift(0, time(9), time(10)),))],
        duration=60,
    )
    assert [(s.practitioner_id, local_starts([s])[0]) for s in found] == [
        (1, "09:00"),
        (2, "09:00"),
    ]


def test_wall_times_inside_the_spring_gap_are_never_offered():
    change_day = date(2026, 3, 8)  # New York: 02:00 jumps to 03:00
    night = Calendar(1, (Shift(change_day.weekday(), time(0), time(5)),))
    found = slots([night], day_from=change_day, day_to=change_day, zone=NEW_YORK, duration=30)
    starts = local_starts(found, NEW_YORK)
    assert "01:45" in starts and "03:00" in starts
    assert not any(s.startswith("02:") for s in starts)
    assert local_datetime(change_day, time(2, 30), NEW_YORK) is None
    # The 01:45 slot lasts 30 real minutes: it ends at 03:15 local, after the jump.
    assert found[starts.index("01:45")].end - found[starts.index("01:45")].start == timedelta(
        minutes=30
    )


def test_a_clinic_day_on_the_change_day_keeps_its_wall_times():
    change_day = date(2026, 3, 29)  # London: 01:00 jumps to 02:00 (a Sunday)
    calendar = Calendar(1, (Shift(6, time(9), time(12)),))
    starts = local_starts(slots([calendar], day_from=change_day, day_to=change_day))
    assert starts[0] == "09:00" and starts[-1] == "11:00"


@st.composite
def calendars(draw):
    shifts = []
    for weekday in range(7):
        for _ in range(draw(st.integers(0, 2))):
            start = draw(st.integers(0, 22 * 4)) * 15
            end = draw(st.integers(start // 15 + 1, 24 * 4 - 1)) * 15
            shifts.append(Shift(weekday, time(start // 60, start % 60), time(end // 60, end % 60)))
    base = datetime(2026, 3, 5, tzinfo=UTC)  # a week around London's March change

    def intervals():
        return st.lists(
            st.builds(
                lambda s, d: Interval(base + timedelta(minutes=s), base + timedelta(minutes=s + d)),
                st.integers(0, 10 * 24 * 60),
                st.integers(5, 8 * 60),
            ),
            max_size=8,
        )

    return Calendar(1, tuple(shifts), tuple(draw(intervals())), tuple(draw(intervals())))


@settings(max_examples=150, deadline=None)
@given(
    calendar=calendars(),
    zone=st.sampled_from([LONDON, NEW_YORK]),
    duration=st.integers(15, 120),
    buffer=st.sampled_from([0, 10, 15]),
)
def test_no_slot_overlaps_busy_time_and_every_slot_is_inside_working_hours(
    calendar, zone, duration, buffer
):
    buffer = timedelta(minutes=buffer)
    day_from = date(2026, 3, 5)
    found = slots(
        [calendar],
        day_from=day_from,
        day_to=day_from + timedelta(days=7),
        zone=zone,
        duration=duration,
        buffer=buffer,
    )
    for slot in found:
        for session in calendar.sessions:
            assert not (slot.start < session.end + buffer and session.start - buffer < slot.end)
        for off in calendar.time_off:
            assert not (slot.start < off.end and off.start < slot.end)
        local = slot.start.astimezone(zone)
        naive = local.replace(tzinfo=None)
        assert local_datetime(naive.date(), naive.time(), zone) == local  # never in a gap
        inside = [
            s
            for s in calendar.shifts
            if s.weekday == local.weekday()
            and s.start <= local.time()
            and slot.end <= datetime.combine(local.date(), s.end, tzinfo=zone)
        ]
        assert inside, (slot, calendar.shifts)
