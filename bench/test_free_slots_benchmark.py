"""pytest-benchmark: the free-slot computation alone, 12 weeks, no database.

One practitioner, Monday to Friday 09:00-17:00, about 70% of the next 12
weeks' 75-minute slots booked (as bench/booking.py fills the database), a
closure day and an afternoon off; the clinic's default rules (15-minute step
and buffer, 24 hours' notice). Target: median <= 1 ms.

Run by `python -m bench.free_slots` (make bench), which reads the median from
var/bench/free_slots.json; not part of `make test` (testpaths is tests/).
"""

import random
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from booking.availability import Calendar, Interval, Shift, slots_available

ZONE = ZoneInfo("Europe/London")
NOW = datetime(2026, 6, 1, 8, tzinfo=ZONE)
WEEKS = 12


def inputs() -> dict:
    rng = random.Random(11)
    today = NOW.date()
    horizon = today + timedelta(weeks=WEEKS)
    sessions = []
    day = today + timedelta(days=1)
    while day < horizon:
        if day.weekday() < 5:
            for n in range(6):  # 09:00, 10:20, ... 15:40
                if rng.random() < 0.7:
                    start = datetime.combine(day, time(9), tzinfo=ZONE) + timedelta(minutes=80 * n)
                    sessions.append(Interval(start, start + timedelta(minutes=75)))
        day += timedelta(days=1)
    afternoon_off = datetime.combine(today + timedelta(days=9), time(13), tzinfo=ZONE)
    return {
        "calendars": [
            Calendar(
                practitioner_id=1,
                shifts=tuple(Shift(weekday, time(9), time(17)) for weekday in range(5)),
                sessions=tuple(sessions),
                time_off=(Interval(afternoon_off, afternoon_off + timedelta(hours=4)),),
            )
        ],
        "duration": timedelta(minutes=75),
        "day_from": today,
        "day_to": horizon,
        "zone": ZONE,
        "earliest": NOW + timedelta(hours=24),
        "latest": NOW + timedelta(weeks=WEEKS),
        "step": timedelta(minutes=15),
        "buffer": timedelta(minutes=15),
        "closures": {date(2026, 8, 31)},
    }


def test_free_slots_12_weeks(benchmark):
    kwargs = inputs()
    slots = benchmark(slots_available, **kwargs)
    assert slots  # the 30% left free, and every gap a step grid fits in
    assert all(s.end - s.start == kwargs["duration"] for s in slots)
