"""schedule(): the one-statement read on PostgreSQL answers as the querysets do."""

from dataclasses import astuple
from datetime import date, datetime, time, timedelta

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext

from booking import selectors, services
from booking.models import LONGEST_SESSION, ClinicClosure, TimeOff
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.booking.test_services import at, book

pytestmark = pytest.mark.django_db

WEEK = (date(2026, 6, 1), date(2026, 6, 7))


def _read(how, practitioners, patient, exclude=()):
    return how(
        practitioners=practitioners,
        day_from=WEEK[0],
        day_to=WEEK[1],
        buffer=timedelta(minutes=15),
        patient=patient,
        exclude_session_ids=exclude,
    )


def _rows(items):
    return sorted(astuple(item) for item in items)


def _same(found, expected):
    assert [c.practitioner_id for c in found.calendars] == [
        c.practitioner_id for c in expected.calendars
    ]
    for mine, theirs in zip(found.calendars, expected.calendars, strict=True):
        assert _rows(mine.shifts) == _rows(theirs.shifts)
        assert _rows(mine.sessions) == _rows(theirs.sessions)
        assert _rows(mine.time_off) == _rows(theirs.time_off)
    assert found.closures == expected.closures
    assert _rows(found.patient_busy) == _rows(expected.patient_busy)


@pytest.fixture
def busy_week(now, treatment, practitioner, patient):
    """Two practitioners; sessions (one cancelled), time off, a closure, other patients."""
    split_days = [(d, time(8), time(12)) for d in range(5)] + [
        (d, time(13), time(18)) for d in range(5)
    ]
    other = PractitionerFactory(treatments=[treatment], hours=split_days)
    kept = book(patient, treatment, practitioner, at(6, 2, 10), sessions=2)
    cancelled = book(PatientFactory(), treatment, other, at(6, 3, 9), sessions=1)
    services.course_cancel(course=cancelled)
    book(PatientFactory(), treatment, other, at(6, 4, 14), sessions=1)
    TimeOff.objects.create(practitioner=other, start=at(6, 5, 9), end=at(6, 5, 17))
    TimeOff.objects.create(practitioner=practitioner, start=at(7, 20, 9), end=at(7, 21, 9))
    ClinicClosure.objects.create(date=date(2026, 6, 6), name="A closed Saturday")
    ClinicClosure.objects.create(date=date(2026, 6, 20), name="Outside the week")
    return [practitioner, other], kept


@pytest.mark.skipif(connection.vendor != "postgresql", reason="the one statement is PostgreSQL's")
def test_one_statement_answers_as_the_querysets(busy_week, patient):
    practitioners, kept = busy_week
    first = kept.sessions.order_by("number").first()
    for exclude in ((), (first.pk,)):
        for who in (patient, None, PatientFactory()):
            with CaptureQueriesContext(connection) as queries:
                found = _read(selectors.schedule, practitioners, who, exclude)
            assert len(queries) == 1
            _same(found, _read(selectors._schedule_querysets, practitioners, who, exclude))
    mine = _read(selectors.schedule, practitioners, patient)
    assert mine.closures == {date(2026, 6, 6)}
    assert len(mine.calendars[1].sessions) == 1  # the cancelled one holds no time
    assert len(mine.calendars[1].time_off) == 1 and len(mine.calendars[1].shifts) == 10
    assert mine.patient_busy == [selectors.Interval(first.start, first.end)]
    assert all(s.start.utcoffset() == timedelta(0) for s in mine.calendars[0].sessions)


# --- Overlap reads bound "start" from below by LONGEST_SESSION ---------------------------


def test_no_session_is_longer_than_the_bound_the_reads_rely_on(
    now, treatment, practitioner, patient
):
    """The database refuses a session past LONGEST_SESSION, and no treatment reaches it."""
    course = book(patient, treatment, practitioner, at(6, 2, 10), sessions=1)
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
    course = book(patient, treatment, practitioner, at(6, 2, 10), sessions=1)
    session = course.sessions.get()
    session.start = datetime.combine(WEEK[0], time(0), selectors.clinic_zone()) - timedelta(
        hours=11
    )
    session.end = session.start + timedelta(hours=11, minutes=30)  # ends 00:30 on the Monday
    session.save(update_fields=["start", "end"])
    for how in (selectors.schedule, selectors._schedule_querysets):
        found = _read(how, [practitioner], patient)
        assert [(s.start, s.end) for s in found.calendars[0].sessions] == [
            (session.start, session.end)
        ]
        assert [(s.start, s.end) for s in found.patient_busy] == [(session.start, session.end)]
