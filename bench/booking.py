"""Benchmark: free slots, course planning and booking with 2,000 sessions.

Targets (issue 4): free slots for one practitioner over 12 weeks with 2,000
sessions in the database (past ones and other practitioners'; this
practitioner's next 12 weeks about 70% full) in at most 5 queries, median
under 50 ms, the pure computation alone median <= 1 ms; planning a 6-session
course median under 100 ms; booking it in at most 16 queries (15, and one
more since issue 22 for the ledger's price entry).

Issue 17: the same free-slot read for a practitioner who also has 100,000
past sessions on record stays within 20% of the read without them (timed call
by call in turn). Overlap reads bound "start" from below by
booking.models.LONGEST_SESSION, so the index scans only the sessions near the
range, not the clinic's history.
"""

import random
import statistics
import sys

from datetime import UTC, date, datetime, time, timedelta
from time import perf_counter

from django.db import connection  # noqa: E402 - after bench.common sets Django up
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.common import QUICK, needs_postgres, scratch_database, timed, write

SESSIONS = 300 if QUICK else 2000
HISTORY = 10_000 if QUICK else 100_000
REPEATS = 5 if QUICK else 30


def fill(now):
    from booking.models import ConsentText, Course, Session, WorkingHours
    from tests.booking.factories import PatientFactory, PractitionerFactory
    from tests.education.factories import TreatmentFactory

    treatment = TreatmentFactory()
    ConsentText.objects.create(version=1, text="I agree to the treatment.")  # patients agree online
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


def add_history(practitioner, patients, now) -> None:
    """HISTORY attended sessions of `practitioner`, 80 minutes apart, over a year ago.

    One INSERT ... SELECT: the rows are made in PostgreSQL, not as Python objects,
    so the process measured next is the one measured before (100,000 model
    instances leave the interpreter's memory measurably slower for a while).
    """
    from booking.models import Course, Session

    # Before fill()'s own past sessions (the year before now), so no patient has two at once.
    first = now - timedelta(days=400) - timedelta(minutes=80 * HISTORY)
    patient_ids = [p.pk for p in patients]
    for batch in range(0, HISTORY, 30_000):  # a session's number is a small integer
        course = Course.objects.create(
            patient=patients[0],
            treatment=practitioner.treatments.first(),
            practitioner=practitioner,
            sessions_planned=1,
        )
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                INSERT INTO {Session._meta.db_table}
                    (course_id, patient_id, number, practitioner_id, "start", "end", status,
                     sequence, created_at, updated_at)
                SELECT %(course)s, (%(patients)s::int[])[1 + n %% %(count)s], n - %(batch)s + 1,
                       %(practitioner)s, %(first)s + n * interval '80 minutes',
                       %(first)s + n * interval '80 minutes' + interval '75 minutes',
                       'attended', 0, %(now)s, %(now)s
                  FROM generate_series(%(batch)s, %(last)s) AS n
                """,  # noqa: S608 - the model's table; every value is a parameter
                {
                    "course": course.pk,
                    "patients": patient_ids,
                    "count": len(patient_ids),
                    "batch": batch,
                    "last": min(batch + 30_000, HISTORY) - 1,
                    "practitioner": practitioner.pk,
                    "first": first,
                    "now": now,
                },
            )
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {Session._meta.db_table}")  # noqa: S608 - the model's table


def twin_of(practitioner, treatment, now):
    """A practitioner with `practitioner`'s future sessions (other patients) and a history."""
    from booking.models import Course, Session
    from tests.booking.factories import PatientFactory, PractitionerFactory

    twin = PractitionerFactory(treatments=[treatment])
    others = [PatientFactory() for _ in range(40)]
    course = Course.objects.create(
        patient=others[0], treatment=treatment, practitioner=twin, sessions_planned=1
    )
    future = Session.objects.active().filter(practitioner=practitioner, start__gte=now)
    Session.objects.bulk_create(
        [
            Session(
                course=course,
                patient=others[n % len(others)],
                number=n + 1,
                practitioner=twin,
                start=session.start,
                end=session.end,
            )
            for n, session in enumerate(future.order_by("start"))
        ]
    )
    add_history(twin, others, now)
    return twin


def timed_in_turn(first, second, repeats: int) -> tuple[dict, dict]:
    """timed() for two calls made alternately: median and 90th percentile of each."""
    first(), second()  # warm
    timings: tuple[list, list] = ([], [])
    for _ in range(repeats):
        for fn, found in zip((first, second), timings, strict=True):
            started = perf_counter()
            fn()
            found.append((perf_counter() - started) * 1000)
    return tuple(
        {
            "median_ms": round(statistics.median(sorted(found)), 3),
            "p90_ms": round(sorted(found)[max(0, int(repeats * 0.9) - 1)], 3),
        }
        for found in timings
    )


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

        inputs = selectors.availability_inputs(
            practitioner_ids=[practitioners[0].pk],
            day_from=today,
            day_to=horizon,
            buffer=rules.buffer,
        )
        calendars, closures = inputs.calendars, inputs.closures

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

        agreement = services.online_agreement(treatment)  # what the journey already holds
        with CaptureQueriesContext(connection) as captured:
            services.course_book(
                patient=patients[-1],
                treatment=treatment,
                slots=[p.slot for p in planned if p.slot],
                now=now,
                **agreement,
            )
        results["book the 6-session course"] = {"queries": len(captured)}

        # The same read for a twin of that practitioner (the same future sessions, with
        # other patients) who also has HISTORY past sessions. The two are timed in turn,
        # call by call, so the machine's own drift falls on both alike.
        twin = twin_of(practitioners[0], treatment, now)

        def twin_slots():
            return selectors.free_slots(
                treatment=treatment,
                day_from=today,
                day_to=horizon,
                now=now,
                practitioners=[twin],
                rules=rules,
            )

        assert [s.start for s in twin_slots()] == [s.start for s in slots()]
        with CaptureQueriesContext(connection) as captured:
            twin_slots()
        history_row = f"free slots, as above, {HISTORY:,} past sessions"
        alone, with_history = timed_in_turn(slots, twin_slots, REPEATS * 3)
        results[history_row] = {
            **with_history,
            "queries": len(captured),
            "without_history_median_ms": alone["median_ms"],
        }

    targets = {
        "free slots, 12 weeks, 1 practitioner": "<= 5 queries, median < 50 ms",
        "  the pure computation alone": "median <= 1 ms",
        "plan a 6-session course": "median < 100 ms",
        "book the 6-session course": "<= 16 queries",
        history_row: "median within 20% of the same read without them (timed in turn)",
    }
    print(f"Booking engine with {SESSIONS} sessions on PostgreSQL")
    print(f"{'what':<40} {'median ms':>10} {'p90 ms':>8} {'SQL':>4}  target")
    for name, row in results.items():
        print(
            f"{name:<40} {row.get('median_ms', '-'):>10} {row.get('p90_ms', '-'):>8} "
            f"{row['queries']:>4}  {targets[name]}"
        )
    write(
        "booking",
        {"sessions": SESSIONS, "history": HISTORY, "results": results, "targets": targets},
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
