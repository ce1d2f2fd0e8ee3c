"""Benchmark: free slots, course planning and booking with 2,000 sessions.

Targets (issue 4): free slots for one practitioner over 12 weeks with 2,000
sessions in the database (past ones and other practitioners'; this
practitioner's next 12 weeks about 70% full) in at most 5 queries, median
under 50 ms, the pure computation alone median <= 1 ms; planning a 6-session
course median under 100 ms; booking it in at most 15 queries.
"""

import random
import sys
from datetime import UTC, date, datetime, time, timedelta

from django.db import connection  # noqa: E402 - after bench.common sets Django up
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.common import QUICK, needs_postgres, scratch_database, timed, write

SESSIONS = 300 if QUICK else 2000
REPEATS = 5 if QUICK else 30


def fill(now):
    from booking.models import Course, Session, WorkingHours
    from booking.services import spacing_of  # noqa: F401
    from tests.booking.factories import PatientFactory, PractitionerFactory
    from tests.education.factories import TreatmentFactory

    treatment = TreatmentFactory()
    practitioners = [PractitionerFactory(treatments=[treatment]) for _ in range(3)]
    assert WorkingHours.objects.count() == 15
    patients = [PatientFactory() for _ in range(40)]
    rng = random.Random(11)
    rows = []
    course = Course.objects.create(
        patient=patients[0], treatment=treatment, practitioner=practitioners[0], sessions_planned=1
    )
    zone = now.tzinfo
    # The measured practitioner's next 12 weeks: about 70% of the 75-minute slots taken.
    day = now.date() + timedelta(days=1)
    while len(rows) < min(900, SESSIONS) and day < now.date() + timedelta(weeks=12):
        if day.weekday() < 5:
            for hour_slot in range(6):  # 09:00, 10:20, ... 15:40
                if rng.random() < 0.7:
                    start = datetime.combine(day, time(9), tzinfo=zone) + timedelta(
                        minutes=80 * hour_slot
                    )
                    rows.append((practitioners[0], start))
        day += timedelta(days=1)
    # The rest: the past, and the other practitioners.
    base = (now - timedelta(days=365)).astimezone(UTC)
    i = 0
    while len(rows) < SESSIONS:
        rows.append((practitioners[1 + i % 2], base + timedelta(hours=5 * i)))
        i += 1
    Session.objects.bulk_create(
        [
            Session(
                course=course,
                patient=patients[n % len(patients)],
                number=n + 1,
                practitioner=p,
                start=s,
                end=s + timedelta(minutes=75),
            )
            for n, (p, s) in enumerate(rows)
        ]
    )
    return treatment, practitioners, patients


def main() -> int:
    if not needs_postgres("bench/booking"):
        return 1
    import time_machine

    from booking import selectors, services
    from booking.availability import slots_available
    from booking.models import BookingRules

    zone = selectors.clinic_zone()
    now = datetime(2026, 6, 1, 8, tzinfo=zone)
    results = {}
    with scratch_database(), time_machine.travel(now, tick=False):
        treatment, practitioners, patients = fill(now)
        rules = BookingRules.current()
        today: date = now.date()
        horizon = today + timedelta(weeks=12)

        def slots():
            return selectors.free_slots(
                treatment=treatment,
                day_from=today,
                day_to=horizon,
                now=now,
                practitioners=[practitioners[0]],
                rules=rules,
            )

        with CaptureQueriesContext(connection) as captured:
            found = slots()
        results["free slots, 12 weeks, 1 practitioner"] = {
            **timed(slots, REPEATS),
            "queries": len(captured),
            "slots": len(found),
        }

        calendars = selectors.calendars(
            practitioners=[practitioners[0]], day_from=today, day_to=horizon, buffer=rules.buffer
        )
        closures = selectors.closure_days(today, horizon)

        def pure():
            return slots_available(
                calendars=calendars,
                duration=timedelta(minutes=75),
                day_from=today,
                day_to=horizon,
                zone=zone,
                earliest=now + rules.min_notice,
                latest=now + rules.horizon,
                step=rules.step,
                buffer=rules.buffer,
                closures=closures,
            )

        results["  the pure computation alone"] = {**timed(pure, REPEATS * 3), "queries": 0}

        first = found[0]

        def plan():
            return selectors.course_proposal(
                first=first,
                treatment=treatment,
                sessions=6,
                now=now,
                patient=patients[-1],
                rules=rules,
            )

        with CaptureQueriesContext(connection) as captured:
            planned = plan()
        results["plan a 6-session course"] = {**timed(plan, REPEATS), "queries": len(captured)}

        with CaptureQueriesContext(connection) as captured:
            services.course_book(
                patient=patients[-1],
                treatment=treatment,
                slots=[p.slot for p in planned if p.slot],
                now=now,
                **services.online_agreement(treatment),
            )
        results["book the 6-session course"] = {"queries": len(captured)}

    targets = {
        "free slots, 12 weeks, 1 practitioner": "<= 5 queries, median < 50 ms",
        "  the pure computation alone": "median <= 1 ms",
        "plan a 6-session course": "median < 100 ms",
        "book the 6-session course": "<= 15 queries",
    }
    print(f"Booking engine with {SESSIONS} sessions on PostgreSQL")
    print(f"{'what':<40} {'median ms':>10} {'p90 ms':>8} {'SQL':>4}  target")
    for name, row in results.items():
        print(
            f"{name:<40} {row.get('median_ms', '-'):>10} {row.get('p90_ms', '-'):>8} "
            f"{row['queries']:>4}  {targets[name]}"
        )
    write("booking", {"sessions": SESSIONS, "results": results, "targets": targets})
    return 0


if __name__ == "__main__":
    sys.exit(main())
