"""The factories make rows the database accepts, and book() keeps the booking rules."""

from datetime import timedelta
from itertools import pairwise

import pytest
from django.utils import timezone

from booking.models import Course, Session
from booking.selectors import courses_breaking_rules
from tests.booking.conftest import NOW
from tests.booking.factories import CourseFactory, SessionFactory
from tests.helpers import LONDON, at, book

pytestmark = pytest.mark.django_db


def test_sessions_of_one_course_are_numbered_in_turn_and_never_overlap(now):
    course = CourseFactory()
    sessions = [SessionFactory(course=course) for _ in range(3)]
    assert [s.number for s in sessions] == [1, 2, 3]
    assert {(s.patient_id, s.practitioner_id) for s in sessions} == {
        (course.patient_id, course.practitioner_id)
    }
    starts = [s.start.astimezone(LONDON) for s in sessions]
    assert all(s > NOW and s.weekday() < 5 for s in starts)
    assert all(later - earlier >= timedelta(hours=2) for earlier, later in pairwise(starts))
    assert all(s.end - s.start == timedelta(minutes=75) for s in sessions)
    assert course.practitioner.treatments.filter(pk=course.treatment_id).exists()


def test_traits_place_a_session_in_the_past_or_take_it_off_the_calendar(now):
    attended, no_show = SessionFactory(attended=True), SessionFactory(no_show=True)
    past = SessionFactory(past=True)
    assert attended.status == Session.Status.ATTENDED and no_show.status == Session.Status.NO_SHOW
    assert all(s.end < timezone.now() for s in (attended, no_show, past))
    cancelled = SessionFactory(cancelled=True)
    assert cancelled.status == Session.Status.CANCELLED and cancelled.cancelled_at == NOW
    # A cancelled session holds no time: another may take it.
    SessionFactory(course=cancelled.course, start=cancelled.start, number=cancelled.number)
    assert CourseFactory(cancelled=True).status == Course.Status.CANCELLED


def test_book_goes_through_the_service_and_keeps_every_rule(now, patient, treatment, practitioner):
    course = book(patient, treatment, practitioner, [at(6, 10), at(7, 8), at(8, 5)])
    assert course.sessions_planned == 3 and course.consent_method == Course.ConsentMethod.ONLINE
    assert [s.start for s in course.sessions.order_by("number")] == [
        at(6, 10),
        at(7, 8),
        at(8, 5),
    ]
    assert courses_breaking_rules(now=NOW) == []
