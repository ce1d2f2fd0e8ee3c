"""Steps the staff tests share: June 2026 times in London, one-session bookings, messages."""

from datetime import datetime, timedelta

from django.contrib.messages import get_messages

from booking.availability import Slot
from booking.models import Session
from tests.booking.conftest import LONDON
from tests.booking.factories import PatientFactory, book_course


def at(day, hour, minute=0):
    return datetime(2026, 6, day, hour, minute, tzinfo=LONDON)


def book(treatment, practitioner, start, now, patient=None) -> Session:
    """A one-session course through the booking service, as a patient would book it."""
    course = book_course(
        patient=patient or PatientFactory(),
        treatment=treatment,
        slots=[Slot(start, start + timedelta(minutes=75), practitioner.pk)],
        now=now,
    )
    return course.sessions.get()


def said(response) -> list[str]:
    """The admin's messages after a request."""
    return [str(m) for m in get_messages(response.wsgi_request)]
