"""The time picker's shape (booking/picker.py): pure functions, no database."""

from datetime import date, datetime, time, timedelta

from booking.availability import Slot
from booking.picker import SHOWN_PER_PART, STRIP_DAYS, by_day, day_parts, pick, spread
from tests.helpers import LONDON


def slot(day: date, hour: int, minute: int = 0, practitioner: int = 1) -> Slot:
    start = datetime.combine(day, time(hour, minute), tzinfo=LONDON)
    return Slot(start, start + timedelta(minutes=45), practitioner)


def every_15_minutes(day: date, first: int = 9, last: int = 17) -> list[Slot]:
    return [slot(day, h, m) for h in range(first, last) for m in (0, 15, 30, 45)]


MONDAY = date(2026, 6, 1)


def test_spread_keeps_short_lists_and_spreads_long_ones_from_first_to_last():
    few = every_15_minutes(MONDAY)[:4]
    assert spread(few, 6) == few
    many = every_15_minutes(MONDAY, 9, 12)  # 12 times, 09:00 to 11:45
    shown = spread(many, 6)
    assert len(shown) == 6 and shown[0] == many[0] and shown[-1] == many[-1]
    assert shown == sorted(shown)


def test_spread_always_shows_a_marked_time():
    many = every_15_minutes(MONDAY, 9, 12)
    marked = many[5].start  # 10:15: not one of the evenly spread ones
    assert many[5] not in spread(many, 6)
    shown = spread(many, 6, keep={marked})
    assert many[5] in shown and len(shown) <= 6


def test_parts_of_the_day_split_at_noon_and_five_and_hold_the_rest_back():
    slots = every_15_minutes(MONDAY, 9, 19)
    parts = day_parts(slots, LONDON, names={1: "Dr A"})
    assert [p.key for p in parts] == ["morning", "afternoon", "evening"]
    morning, afternoon, evening = parts
    assert morning.shown[-1].start.time() <= time(11, 45) < afternoon.shown[0].start.time()
    assert afternoon.shown[-1].start.time() == time(16, 45)  # the last is always shown
    assert evening.shown[0].start.time() == time(17)
    for part in parts:
        assert len(part.shown) == SHOWN_PER_PART
        assert {c.start for c in part.shown}.isdisjoint(c.start for c in part.more)
    assert sum(len(p.shown) + len(p.more) for p in parts) == len(slots)  # none lost
    assert morning.shown[0].who == "Dr A" and morning.shown[0].value.endswith("|1")


def test_only_parts_with_times_are_shown():
    assert [p.key for p in day_parts([slot(MONDAY, 14)], LONDON)] == ["afternoon"]
    assert day_parts([], LONDON) == []


def test_parts_follow_the_clock_on_the_day_summer_time_ends():
    day = date(2026, 10, 25)  # clocks go back at 02:00: the day has 25 hours
    slots = [slot(day, 11, 45), slot(day, 12), slot(day, 16, 45), slot(day, 17)]
    keys = {
        p.key: [c.start.astimezone(LONDON).time() for c in p.shown]
        for p in day_parts(slots, LONDON)
    }
    assert keys == {
        "morning": [time(11, 45)],
        "afternoon": [time(12), time(16, 45)],
        "evening": [time(17)],
    }


def test_one_slot_a_time_unless_every_practitioner_is_wanted():
    slots = sorted([slot(MONDAY, 9, 0, 1), slot(MONDAY, 9, 0, 2), slot(MONDAY, 10, 0, 2)])
    assert [s.practitioner_id for s in by_day(slots, LONDON, one_per_time=True)[MONDAY]] == [1, 2]
    assert len(by_day(slots, LONDON, one_per_time=False)[MONDAY]) == 3


class Fetcher:
    """Free times on the given days only; counts its calls (one query a strip)."""

    def __init__(self, days):
        self.days, self.calls = set(days), []

    def __call__(self, first, last):
        self.calls.append((first, last))
        found = {}
        day = first
        while day <= last:
            if day in self.days:
                found[day] = every_15_minutes(day)
            day += timedelta(days=1)
        return found


def test_it_opens_on_the_first_day_with_times_one_strip_at_a_time():
    first_day, last_day = date(2026, 6, 2), date(2026, 8, 24)
    fetch = Fetcher([date(2026, 6, 20)])
    picker = pick(fetch, first_day=first_day, last_day=last_day, zone=LONDON)
    assert picker.day == date(2026, 6, 20) and picker.found_any
    assert len(fetch.calls) == 3  # 2-8 June, 9-15 June, 16-22 June
    assert [d.day for d in picker.strip][0] == date(2026, 6, 16)
    assert [d.free for d in picker.strip if d.selected] == [32]
    assert picker.earlier == date(2026, 6, 9) and picker.later == date(2026, 6, 23)


def test_a_day_asked_for_is_shown_even_without_times():
    fetch = Fetcher([date(2026, 6, 3)])
    picker = pick(
        fetch,
        first_day=date(2026, 6, 2),
        last_day=date(2026, 6, 30),
        zone=LONDON,
        day=date(2026, 6, 6),
    )
    assert picker.day == date(2026, 6, 6) and picker.parts == [] and picker.found_any
    assert len(fetch.calls) == 1 and picker.earlier is None


def test_no_free_time_at_all_says_so_after_reaching_the_last_day():
    fetch = Fetcher([])
    picker = pick(fetch, first_day=date(2026, 6, 2), last_day=date(2026, 6, 20), zone=LONDON)
    assert not picker.found_any and picker.parts == []
    assert len(fetch.calls) == 3 and fetch.calls[-1] == (date(2026, 6, 16), date(2026, 6, 20))


def test_days_outside_the_range_are_never_offered():
    fetch = Fetcher([date(2026, 6, 1), date(2026, 6, 10)])
    picker = pick(
        fetch,
        first_day=date(2026, 6, 2),
        last_day=date(2026, 6, 12),
        zone=LONDON,
        day=date(2026, 5, 1),
    )
    assert picker.day == date(2026, 6, 10)  # an earlier day asked for: from the first day
    assert [d.day for d in picker.strip][-1] == date(2026, 6, 12) and picker.later is None
    assert len(picker.strip) <= STRIP_DAYS


def test_from_past_the_last_day_falls_back_to_the_last_day_with_times():
    fetch = Fetcher([date(2026, 6, 10)])
    picker = pick(
        fetch,
        first_day=date(2026, 6, 2),
        last_day=date(2026, 6, 12),
        zone=LONDON,
        start=date(9999, 1, 1),
    )
    assert picker.day == date(2026, 6, 10) and picker.found_any


def test_a_moving_sessions_own_time_is_shown_but_neither_counted_nor_opened_on():
    own = slot(date(2026, 6, 3), 10)

    def fetch(first, last):
        found = {date(2026, 6, 3): [own], date(2026, 6, 4): [slot(date(2026, 6, 4), 9)]}
        return {d: s for d, s in found.items() if first <= d <= last}

    picker = pick(
        fetch, first_day=date(2026, 6, 2), last_day=date(2026, 6, 30), zone=LONDON, current=own
    )
    assert picker.day == date(2026, 6, 4)  # not Wednesday: its one time is the session's own
    assert {d.day: d.free for d in picker.strip if d.free} == {date(2026, 6, 4): 1}
    on_its_day = pick(
        fetch,
        first_day=date(2026, 6, 2),
        last_day=date(2026, 6, 30),
        zone=LONDON,
        day=own.start.date(),
        current=own,
    )
    assert [c.slot for p in on_its_day.parts for c in p.shown] == [own]  # shown, to be marked
