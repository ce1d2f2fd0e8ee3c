"""No double booking under load: threads race for the same time on a real database.

Twenty threads are released together by a barrier, each booking an overlapping
course. Exactly one may win; the others must get SlotTaken with alternatives;
the table must hold one course's sessions. Run on PostgreSQL (the exclusion
constraints and row locks) and on a SQLite file (IMMEDIATE transactions).
"""

import os
import subprocess
import sys
import threading
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from django.db import connection

from booking.availability import Slot
from booking.models import Course, Session
from booking.services import SlotTaken
from tests.booking.conftest import LONDON
from tests.booking.factories import PatientFactory, PractitionerFactory, agreed, book_course
from tests.education.factories import TreatmentFactory

THREADS = 20
ROOT = Path(__file__).resolve().parents[2]


def race(jobs) -> tuple[list, list]:
    """Run each job in its own thread, all released at once; (results, errors)."""
    barrier = threading.Barrier(len(jobs))
    results, errors = [], []

    def run(job):
        try:
            barrier.wait()
            results.append(job())
        except Exception as exc:  # noqa: BLE001 - collected for the assertions
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results, errors


def three_sessions(start, practitioner, minutes=75, offset=timedelta(0)):
    starts = [
        start + offset,
        start + offset + timedelta(days=28),
        start + offset + timedelta(days=56),
    ]
    return [Slot(s, s + timedelta(minutes=minutes), practitioner.pk) for s in starts]


def _same_practitioner_race(treatment):
    agreed(treatment)  # the consent text exists before the threads start
    practitioner = PractitionerFactory(treatments=[treatment])
    patients = [PatientFactory() for _ in range(THREADS)]
    first = datetime(2026, 6, 3, 10, tzinfo=LONDON)
    now = datetime(2026, 6, 1, 8, tzinfo=LONDON)
    # Each course overlaps the others: starts 0-45 minutes apart on the same days.
    jobs = [
        (
            lambda p=p, i=i: book_course(
                patient=p,
                treatment=treatment,
                now=now,
                slots=three_sessions(first, practitioner, offset=timedelta(minutes=15 * (i % 4))),
            )
        )
        for i, p in enumerate(patients)
    ]
    results, errors = race(jobs)
    assert len(results) == 1, errors
    assert len(errors) == THREADS - 1
    assert all(isinstance(e, SlotTaken) for e in errors), {type(e) for e in errors}
    assert all(e.alternatives for e in errors)
    assert Course.objects.count() == 1
    assert Session.objects.count() == 3
    assert set(Session.objects.values_list("course_id", flat=True)) == {results[0].pk}


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_twenty_threads_one_practitioner_one_winner(treatment):
    _same_practitioner_race(treatment)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_patient_booking_two_practitioners_at_once_gets_one(treatment):
    """Each practitioner offers a treatment of their own: only the patient's own no-overlap
    guard (not the one-course-per-treatment rule) can stop the second booking."""
    agreed(treatment)  # the consent text exists before the threads start
    patient = PatientFactory()
    treatments = [treatment] + [
        TreatmentFactory(name=f"Treatment {n}", slug=f"treatment-{n}") for n in range(THREADS - 1)
    ]
    practitioners = [PractitionerFactory(treatments=[t]) for t in treatments]
    first = datetime(2026, 6, 3, 10, tzinfo=LONDON)
    now = datetime(2026, 6, 1, 8, tzinfo=LONDON)
    jobs = [
        (
            lambda pr=pr, t=t: book_course(
                patient=patient, treatment=t, now=now, slots=three_sessions(first, pr)
            )
        )
        for pr, t in zip(practitioners, treatments, strict=True)
    ]
    results, errors = race(jobs)
    assert len(results) == 1, errors
    assert all(isinstance(e, SlotTaken) for e in errors)
    assert Session.objects.filter(patient=patient).count() == 3


@pytest.mark.django_db(transaction=True)
def test_sqlite_race_one_winner(treatment):
    """Runs where the suite itself is on SQLite; on PostgreSQL see the subprocess test."""
    if connection.vendor != "sqlite":
        pytest.skip("covered by test_the_same_race_on_a_sqlite_file_database")
    _same_practitioner_race(treatment)


@pytest.mark.postgres
def test_the_same_race_on_a_sqlite_file_database(tmp_path):
    """The suite runs on PostgreSQL here: run the SQLite race in a process of its own."""
    env = {k: v for k, v in os.environ.items() if k not in {"REQUIRE_SERVICES"}}
    env["DATABASE_URL"] = f"sqlite:///{tmp_path / 'race.sqlite3'}"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            f"{Path(__file__).relative_to(ROOT)}::test_sqlite_race_one_winner",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    assert "1 passed" in result.stdout
