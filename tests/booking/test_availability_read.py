"""The one availability read (booking/selectors/ availability_inputs), on the database
the suite runs on and, from a PostgreSQL run, on SQLite (make run's default) too."""

import os
import subprocess
import sys
from datetime import date, datetime, time, timedelta

import pytest
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from booking import selectors, services
from booking.availability import Interval
from booking.models import LONGEST_SESSION, ClinicClosure, TimeOff
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.booking.test_services import book_planned
from tests.helpers import at

pytestmark = pytest.mark.django_db

WEEK = (date(2026, 6, 1), date(2026, 6, 7))


def _read(practitioners, patient, exclude=()):
    return selectors.availability_inputs(
        practitioner_ids=[p.pk for p in practitioners],
        day_from=WEEK[0],
        day_to=WEEK[1],
        buffer=timedelta(minutes=15),
        patient=patient,
        exclude_session_ids=exclude,
    )


@pytest.fixture
def busy_week(now, treatment, practitioner, patient):
    """Two practitioners; sessions (one cancelled), time off, a closure, other patients."""
    split_days = [(d, time(8), time(12)) for d in range(5)] + [
        (d, time(13), time(18)) for d in range(5)
    ]
    other = PractitionerFactory(treatments=[treatment], hours=split_days)
    kept = book_planned(patient, treatment, practitioner, at(6, 2, 10), sessions=2)
    cancelled = book_planned(PatientFactory(), treatment, other, at(6, 3, 9), sessions=1)
    services.course_cancel(course=cancelled)
    theirs = book_planned(PatientFactory(), treatment, other, at(6, 4, 14), sessions=1)
    TimeOff.objects.create(practitioner=other, start=at(6, 5, 9), end=at(6, 5, 17), reason="Course")
    TimeOff.objects.create(practitioner=practitioner, start=at(7, 20, 9), end=at(7, 21, 9))
    ClinicClosure.objects.create(date=date(2026, 6, 6), name="A closed Saturday")
    ClinicClosure.objects.create(date=date(2026, 6, 20), name="Outside the week")
    return [practitioner, other], kept, theirs.sessions.get()


def _spans(intervals):
    return sorted((i.start, i.end) for i in intervals)


def test_the_read_answers_every_input_in_one_statement(busy_week, patient):
    (practitioner, other), kept, theirs = busy_week
    first = kept.sessions.order_by("number").first()
    with CaptureQueriesContext(connection) as queries:
        found = _read([practitioner, other], patient)
    assert len(queries) == 1
    mine, others = found.calendars
    assert (mine.practitioner_id, others.practitioner_id) == (practitioner.pk, other.pk)
    assert sorted((s.weekday, s.start, s.end) for s in mine.shifts) == sorted(
        (h.weekday, h.start, h.end) for h in practitioner.working_hours.all()
    )
    assert len(others.shifts) == 10
    assert _spans(mine.sessions) == [(first.start, first.end)]  # session 2 is weeks later
    assert _spans(others.sessions) == [(theirs.start, theirs.end)]  # not the cancelled one
    assert mine.time_off == () and _spans(others.time_off) == [(at(6, 5, 9), at(6, 5, 17))]
    assert found.away == {other.pk: [(at(6, 5, 9), at(6, 5, 17), "Course")]}
    assert found.closures == {date(2026, 6, 6)}
    assert found.closed == {date(2026, 6, 6): "A closed Saturday"}
    assert found.patient_busy == [Interval(first.start, first.end)]
    assert all(s.start.utcoffset() == timedelta(0) for s in mine.sessions + others.sessions)


def test_the_read_leaves_out_excluded_sessions_and_reads_only_the_patient_asked(busy_week, patient):
    (practitioner, other), kept, theirs = busy_week
    first = kept.sessions.order_by("number").first()
    found = _read([practitioner, other], patient, exclude=[first.pk])
    assert found.calendars[0].sessions == () and found.patient_busy == []
    assert _spans(found.calendars[1].sessions) == [(theirs.start, theirs.end)]
    assert _read([practitioner, other], None).patient_busy == []
    assert _read([practitioner, other], PatientFactory()).patient_busy == []
    nobody = _read([], patient)
    assert nobody.calendars == [] and nobody.patient_busy == [Interval(first.start, first.end)]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="a PostgreSQL run checks SQLite too")
def test_the_same_read_answers_on_sqlite(tmp_path):
    """make run's SQLite: these tests again, in a process on a SQLite database."""
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'read.sqlite3'}"}
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--nomigrations",  # tables from the models: seconds sooner, the same columns
            __file__,
            "-k",
            "not sqlite",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert " passed" in run.stdout and "skipped" not in run.stdout, run.stdout[-1000:]


# --- Overlap reads bound "start" from below by LONGEST_SESSION ---------------------------


def test_no_session_is_longer_than_the_bound_the_reads_rely_on(
    now, treatment, practitioner, patient
):
    """The database refuses a session past LONGEST_SESSION, and no treatment reaches it."""
    course = book_planned(patient, treatment, practitioner, at(6, 2, 10), sessions=1)
    session = course.sessions.get()
    session.end = session.start + LONGEST_SESSION + timedelta(minutes=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        session.save(update_fields=["end"])
    treatment.treatment_minutes, treatment.numbing_minutes = 601, 121
    with pytest.raises(ValidationError) as refused:
        treatment.full_clean()
    assert set(refused.value.message_dict) == {"treatment_minutes", "numbing_minutes"}
    assert timedelta(minutes=600 + 120) <= LONGEST_SESSION


def test_a_session_reaching_into_the_range_from_before_it_is_still_read(
    now, treatment, practitioner, patient
):
    """The lower bound is the longest session: one that began the evening before counts."""
    course = book_planned(patient, treatment, practitioner, at(6, 2, 10), sessions=1)
    session = course.sessions.get()
    session.start = datetime.combine(WEEK[0], time(0), selectors.clinic_zone()) - timedelta(
        hours=11
    )
    session.end = session.start + timedelta(hours=11, minutes=30)  # ends 00:30 on the Monday
    session.save(update_fields=["start", "end"])
    found = _read([practitioner], patient)
    assert _spans(found.calendars[0].sessions) == [(session.start, session.end)]
    assert _spans(found.patient_busy) == [(session.start, session.end)]
