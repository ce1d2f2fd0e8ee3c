"""Query counts that must not grow with the waitlist (the timings are in `make bench`)."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from booking import selectors, services
from booking.models import BookingRules, Offer, ReminderSettings, WaitlistSettings
from booking.waitlist import services as waitlist
from booking.waitlist.models import EVENING
from tests.booking.factories import PatientFactory
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book
from tests.waitlist.conftest import NOW, join

pytestmark = pytest.mark.django_db


def test_matching_a_cancelled_time_takes_as_many_queries_with_20_waiting_as_with_2(
    now, treatment, practitioner
):
    peel = TreatmentFactory(name="Peel", slug="peel", treatment_minutes=30, numbing_minutes=0)
    practitioner.treatments.add(peel)
    wednesday, thursday = (
        book(PatientFactory(), treatment, practitioner, [start]).sessions.get()
        for start in (at(6, 3, 10), at(6, 4, 10))
    )
    # Kept settings and who offers what, as in a running clinic (the first reads fill them).
    for kept in (BookingRules, ReminderSettings, WaitlistSettings):
        kept.current()
    selectors.practitioners_for(treatment), selectors.practitioners_for(peel)

    def waiting_in_the_evening(count):
        """Entries ahead in the queue that a morning time does not suit: two treatments,
        anyone or this practitioner (each pair a different search)."""
        for n in range(count):
            join(
                PatientFactory(),
                (treatment, peel)[n % 2],
                parts_of_day=EVENING,
                practitioner=(None, practitioner)[n // 2 % 2],
            )

    def queries_to_offer(session):
        """Cancel `session`, then match its time: the queries, and who it was offered to."""
        services.session_cancel(session=session, now=NOW)
        with CaptureQueriesContext(connection) as captured:
            assert waitlist.freed_time_match(now=NOW) == 1
        return len(captured), Offer.objects.get(hold__start=session.start).patient

    waiting_in_the_evening(2)
    first = PatientFactory()
    join(first, treatment)
    few, offered = queries_to_offer(wednesday)
    assert offered == first
    waiting_in_the_evening(18)  # 20 ahead now
    second = PatientFactory()
    join(second, treatment)
    many, offered = queries_to_offer(thursday)
    assert offered == second
    assert many == few
