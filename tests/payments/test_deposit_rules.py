"""The cancellation policy's "deposit" outcome, and the online money it meets."""

from datetime import timedelta
from decimal import Decimal

import pytest

from booking import services
from booking.deposits import services as deposits
from booking.ledger.models import LedgerEntry
from booking.models import BookingRules
from tests.booking.factories import UserFactory
from tests.payments.test_deposits import start

pytestmark = pytest.mark.django_db
D = Decimal
K = LedgerEntry.Kind


def paid_online(patient, treatment, practitioner, fake):
    checkout = start(patient, treatment, practitioner)
    deposits.event_handle(fake.pay(checkout.stripe_session))
    checkout.refresh_from_db()
    return checkout.course


def test_a_late_cancellation_keeps_the_deposit(now, fake_stripe, patient, priced, practitioner):
    rules = BookingRules.current()
    rules.late_cancel_outcome = "deposit"
    rules.save()
    course = paid_online(patient, priced, practitioner, fake_stripe)
    first = course.sessions.order_by("number").first()
    staff = UserFactory(is_staff=True)
    services.session_cancel(
        session=first, now=first.start - timedelta(hours=2), by_staff=True, by=staff
    )
    kinds = list(LedgerEntry.objects.filter(session=first).values_list("kind", "amount"))
    assert (K.KEPT, D("50.00")) in kinds, kinds
