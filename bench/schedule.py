"""Benchmark: the staff schedule's week view with 5 practitioners and 150 sessions.

Target (the schedule issue): the week view, as a whole admin request through the
test client signed in as a superuser, in at most 10 queries, median under
200 ms; the day view and the day's CSV are reported beside it.
"""

import sys
from datetime import datetime, timedelta

from django.db import connection  # noqa: E402 - after bench.common sets Django up
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.common import QUICK, needs_postgres, scratch_database, timed, write

PRACTITIONERS = 5
SESSIONS = 150
REPEATS = 5 if QUICK else 30


def fill(monday: datetime):
    """Six 75-minute sessions a day, Monday to Friday, for each practitioner."""
    from booking.models import Course, Session
    from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory
    from tests.education.factories import TreatmentFactory

    treatment = TreatmentFactory()
    practitioners = [PractitionerFactory(treatments=[treatment]) for _ in range(PRACTITIONERS)]
    patients = [PatientFactory() for _ in range(40)]
    course = Course.objects.create(
        patient=patients[0], treatment=treatment, practitioner=practitioners[0], sessions_planned=6
    )
    rows = []
    for n in range(SESSIONS):
        slot = n // PRACTITIONERS  # 0..29: the day, then the time of day
        start = monday + timedelta(days=slot // 6, minutes=80 * (slot % 6))
        rows.append(
            Session(
                course=course,
                patient=patients[n % len(patients)],
                practitioner=practitioners[n % PRACTITIONERS],
                number=n + 1,
                start=start,
                end=start + timedelta(minutes=75),
            )
        )
    Session.objects.bulk_create(rows)
    return UserFactory(email="owner@clinic.example", is_staff=True, is_superuser=True)


def main() -> int:
    if not needs_postgres("bench/schedule"):
        return 1
    import time_machine
    from django.test import Client
    from django.urls import reverse

    from booking.selectors import clinic_zone

    monday = datetime(2026, 6, 1, 9, tzinfo=clinic_zone())
    pages = {
        "week view": (reverse("admin:booking_schedule_week"), "<= 10 queries, median < 200 ms"),
        "day view": (reverse("admin:booking_schedule_day"), "-"),
        "day CSV": (reverse("admin:booking_schedule_csv"), "-"),
    }
    results = {}
    with scratch_database(), time_machine.travel(monday - timedelta(hours=1), tick=False):
        client = Client()
        client.force_login(fill(monday))
        for name, (url, _) in pages.items():

            def get(url=url):
                response = client.get(url, {"date": "2026-06-01"})
                assert response.status_code == 200, response.status_code
                return response

            get()  # the first request fills the caches (the clinic's details)
            with CaptureQueriesContext(connection) as captured:
                get()
            queries = len(captured)  # now: each request clears the connection's query log
            results[name] = {**timed(get, REPEATS), "queries": queries}

    print(
        f"Staff schedule: {PRACTITIONERS} practitioners, {SESSIONS} sessions in the week, "
        "as a superuser"
    )
    print(f"{'what':<12} {'median ms':>10} {'p90 ms':>8} {'SQL':>4}  target")
    for name, row in results.items():
        print(
            f"{name:<12} {row['median_ms']:>10} {row['p90_ms']:>8} {row['queries']:>4}  "
            f"{pages[name][1]}"
        )
    write(
        "schedule",
        {
            "practitioners": PRACTITIONERS,
            "sessions": SESSIONS,
            "results": results,
            "targets": {name: target for name, (_, target) in pages.items()},
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
