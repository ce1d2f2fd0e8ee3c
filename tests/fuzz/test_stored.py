"""The row checks refuse what the clinic would not store: the fuzzing trusts them."""

import pytest

from booking.models import Session
from tests.fuzz.stored import assert_bookable, assert_course_keeps_rules
from tests.helpers import at

pytestmark = pytest.mark.django_db


def moved(session: Session, start) -> Session:
    """The session at `start`, as if a request had written it without asking the services."""
    Session.objects.filter(pk=session.pk).update(
        start=start, end=start + (session.end - session.start)
    )
    return Session.objects.get(pk=session.pk)


@pytest.mark.parametrize(
    ("start", "why"),
    [
        (at(6, 14, 10), "a Sunday: no working hours"),
        (at(6, 9, 10, 5), "off the 15-minute grid"),
        (at(6, 3, 15, 20), "inside the buffer after Dr A's 14:00 session"),
        (at(6, 1, 14), "inside the minimum notice"),
    ],
)
def test_a_session_the_clinic_would_not_offer_is_not_bookable(clinic, start, why):
    first = clinic.sessions[0]
    assert_bookable(first, by_staff=False)  # where the service booked it
    with pytest.raises(AssertionError, match="is not a free time"):
        assert_bookable(moved(first, start), by_staff=False)


def test_a_session_outside_its_window_breaks_its_course(clinic):
    assert_course_keeps_rules(clinic.course)
    moved(clinic.sessions[1], at(6, 23, 10))  # 14 days after session 1: at least 28
    with pytest.raises(AssertionError, match="28 to 42 days after session 1"):
        assert_course_keeps_rules(clinic.course)
