"""The two steps nearly every booking test takes: a clinic time, and a course booked by the rules.

at() names a wall time in the clinic's zone (the test settings keep Europe/London);
book() books through booking.services.course_book, so the course keeps every
booking rule the way a patient's own booking does. For rows that need not keep
the rules (a page that lists sessions, a query count), use the factories in
tests/booking/factories.py instead.
"""

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from booking.availability import Slot
from tests.booking.factories import book_course

LONDON = ZoneInfo("Europe/London")


def at(month: int, day: int, hour: int = 10, minute: int = 0, *, year: int = 2026) -> datetime:
    """`hour:minute` on `day` `month` (2026 unless given) in the clinic's wall time.

    at(6, 3, 10) is 10:00 in London on Wednesday 3 June 2026, the week the tests'
    frozen clock starts (tests/booking/conftest.py NOW: Monday 1 June, 08:00).
    """
    return datetime(year, month, day, hour, minute, tzinfo=LONDON)


def book(patient, treatment, practitioner, starts: Iterable[datetime | Slot], **service_kwargs):
    """A course with a session at each of `starts`, booked through booking.services.course_book
    as the journey books it: consent given online, every health answer "no"
    (tests/booking/factories.py agreed()).

    Each start is a time with `practitioner`, or a Slot as the selectors plan it (with its
    own practitioner). `service_kwargs` go to course_book (now=, idempotency_key=, by=...).
    """
    length = timedelta(minutes=treatment.appointment_minutes)
    # In UTC, as the selectors give slots, so a slot's form value matches theirs.
    slots = [
        s
        if isinstance(s, Slot)
        else Slot(s.astimezone(UTC), s.astimezone(UTC) + length, practitioner.pk)
        for s in starts
    ]
    return book_course(patient=patient, treatment=treatment, slots=slots, **service_kwargs)


def clinic_details(**fields):
    """The clinic's details row, saved: a clinic in Bristol unless `fields` say otherwise."""
    from clinic.models import ClinicDetails

    return ClinicDetails.objects.create(
        **{
            "name": "Harbour Skin Clinic",
            "address": "1 Quay Street\nBristol",
            "phone": "0117 496 0000",
            "email": "desk@harbour.example",
            "opening_hours": "Monday to Friday: 9am to 5pm",
            **fields,
        }
    )
