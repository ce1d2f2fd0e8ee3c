"""Query counts that must not grow with the data (the timings are in `make bench`)."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from booking import selectors
from booking.models import Session
from tests.booking.conftest import LONDON, NOW
from tests.booking.factories import (
    CourseFactory,
    PatientFactory,
    PractitionerFactory,
)

pytestmark = pytest.mark.django_db


def fill_sessions(count, practitioners, patient, treatment):
    """`count` sessions spread over the past and the next 12 weeks, never overlapping."""
    course = CourseFactory(
        patient=patient, treatment=treatment, practitioner=practitioners[0], sessions_planned=1
    )
    rng = random.Random(4)
    rows, base = [], (NOW - timedelta(days=200)).astimezone(UTC)
    gap = timedelta(days=280) / count  # from 200 days ago to 80 days ahead
    length = timedelta(minutes=treatment.appointment_minutes)
    for i in range(count):
        start = base + gap * i
        # Plain rows, as SessionFactory would make them: 2,000 factory builds triple the test.
        rows.append(
            Session(
                course=course,
                patient=patient,
                number=i + 1,
                practitioner=rng.choice(practitioners),
                start=start,
                end=start + length,
            )
        )
    Session.objects.bulk_create(rows)


@pytest.mark.parametrize("sessions", [10, 2000])
def test_twelve_weeks_of_free_slots_take_at_most_5_queries(
    now, treatment, sessions, django_assert_max_num_queries
):
    practitioners = [PractitionerFactory(treatments=[treatment]) for _ in range(3)]
    fill_sessions(sessions, practitioners, PatientFactory(), treatment)
    today = NOW.date()
    with django_assert_max_num_queries(5):
        found = selectors.free_slots(
            treatment=treatment,
            day_from=today,
            day_to=today + timedelta(weeks=12),
            now=NOW,
            practitioners=[practitioners[0]],
        )
    assert found
    assert all(s.start >= NOW + timedelta(hours=24) for s in found)
    assert found[0].start.astimezone(LONDON) >= datetime(2026, 6, 2, 9, tzinfo=LONDON)
