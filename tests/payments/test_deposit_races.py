"""Online deposits under races on a real PostgreSQL: each event once, each outcome once.

Threads released together by a barrier (tests/booking/test_races.py `race`), against the
local Stripe (tests/payments/fake_stripe.py):
- the same `checkout.session.completed` delivered twice at the same moment: the event's row
  (PaymentEvent, unique by Stripe's id) lets one through; both deliveries answer 200;
- the completed webhook racing the sweep that releases the lapsed hold: both take the
  booking locks, then the checkout's (booking/deposits/services.py), so exactly one of
  "course booked" or "paid late, refunded" happens, and nothing deadlocks;
- the cancellation's refund racing Stripe's `refund.created` for it: one refund entry.
"""

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.test import Client

from booking import services
from booking.deposits import services as deposits
from booking.deposits import stripe_api
from booking.deposits.models import DepositCheckout, PaymentEvent
from booking.ledger.models import LedgerEntry
from booking.models import Course, Session
from tests.booking.conftest import NOW
from tests.booking.factories import PatientFactory, PractitionerFactory, agreed
from tests.booking.test_races import race
from tests.education.factories import TreatmentFactory
from tests.helpers import at
from tests.payments.signing import WEBHOOK_PATH, signed
from tests.payments.test_deposits import start

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
D = Decimal
S = DepositCheckout.Status
K = LedgerEntry.Kind
STARTS = [at(6, 10), at(7, 8), at(8, 5)]


@pytest.fixture
def clinic(now, fake_stripe):
    """A £480 course of 3 with a £50.00 deposit, a practitioner, and the consent text."""
    treatment = TreatmentFactory(
        session_price=D("180.00"),
        package_price=D("480.00"),
        deposit="fixed",
        deposit_value=D("50.00"),
    )
    agreed(treatment)  # before the threads start
    return treatment, PractitionerFactory(treatments=[treatment])


def opened(clinic, turn: int = 0):
    """A new patient's checkout, open at the fake: turn 0 at STARTS, each later turn two
    hours later (three a day, then the next day)."""
    treatment, practitioner = clinic
    later = timedelta(days=turn // 3, hours=2 * (turn % 3))
    starts = [s + later for s in STARTS]
    return start(PatientFactory(), treatment, practitioner, starts, key=f"journey-{turn}", now=NOW)


def event_pi(event) -> str:
    return event["data"]["object"]["payment_intent"]


def deliver(event, secret):
    body, headers = signed(event, secret)
    return Client().post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)


def test_the_same_paid_event_delivered_twice_at_once_books_one_course(fake_stripe, clinic):
    checkout = opened(clinic)
    event = fake_stripe.pay(checkout.stripe_session)
    results, errors = race([lambda: deliver(event, fake_stripe.secret)] * 2)
    assert errors == [] and [r.status_code for r in results] == [200, 200]
    assert sorted(r.json()["result"] for r in results) == ["booked", "duplicate"]
    checkout.refresh_from_db()
    assert checkout.status == S.BOOKED and Course.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=K.PAYMENT).count() == 1
    assert PaymentEvent.objects.count() == 1
    assert not Session.with_holds.held().exists()


def test_the_paid_webhook_racing_the_sweep_books_or_refunds_never_both(fake_stripe, clinic):
    # The sweep has less to do before it takes the checkout's lock: started a little later
    # in some rounds, it finds the webhook inside the booking locks, or done.
    for turn, delay in enumerate([0, 0.01, 0.02, 0.04, 0.08]):
        checkout = opened(clinic, turn)
        event = fake_stripe.pay(checkout.stripe_session)
        later = checkout.expires_at + 2 * deposits.SWEEP_GRACE

        def sweep(later=later, delay=delay):
            time.sleep(delay)
            return deposits.deposits_sweep(now=later)

        results, errors = race(
            [lambda event=event, later=later: deposits.event_handle(event, now=later), sweep]
        )
        assert errors == [], errors  # no deadlock, no error
        checkout.refresh_from_db()
        refunds = [
            r for r in fake_stripe.refunds.values() if r["payment_intent"] == event_pi(event)
        ]
        payments = LedgerEntry.objects.filter(provider_ref=event_pi(event))
        assert payments.count() == 1
        if checkout.status == S.BOOKED:
            assert refunds == [] and checkout.course.sessions.count() == 3
            assert payments.get().course_id == checkout.course_id
        else:
            assert checkout.status == S.REFUNDED, checkout.status
            assert checkout.course is None and len(refunds) == 1
            entries = checkout.ledger.order_by("pk")
            assert [(e.kind, e.amount) for e in entries] == [
                (K.PAYMENT, D("50.00")),
                (K.REFUND, D("50.00")),
            ]
            assert not Course.objects.filter(patient=checkout.patient).exists()
        assert not Session.with_holds.held().exists()


def test_the_cancellation_refund_racing_its_refund_webhook_records_it_once(
    fake_stripe, clinic, monkeypatch
):
    checkout = opened(clinic)
    deposits.event_handle(fake_stripe.pay(checkout.stripe_session), now=NOW)
    checkout.refresh_from_db()
    services.course_cancel(course=checkout.course, now=NOW)
    # Stripe sends refund.created as soon as it makes the refund, while our call is still
    # returning: the webhook's thread delivers it then, and our refund's thread is held a moment.
    made = threading.Event()
    real = stripe_api.refund_create

    def refund_create(**kwargs):
        refund = real(**kwargs)
        made.set()
        threading.Event().wait(0.3)
        return refund

    monkeypatch.setattr(stripe_api, "refund_create", refund_create)

    def webhook():
        assert made.wait(10)
        (refund,) = fake_stripe.refunds
        return deliver(fake_stripe.refund_event(refund), fake_stripe.secret)

    results, errors = race([lambda: deposits.deposits_sweep(now=NOW), webhook])
    assert errors == [], errors
    (swept,) = [r for r in results if isinstance(r, dict)]
    (answer,) = [r for r in results if not isinstance(r, dict)]
    assert swept["refunded"] == 1
    assert answer.status_code == 200 and answer.json()["result"] == "already recorded"
    refunds = LedgerEntry.objects.filter(kind=K.REFUND)
    assert [(r.amount, r.course_id) for r in refunds] == [(D("50.00"), checkout.course_id)]
    assert len(fake_stripe.refunds) == 1
    checkout.refresh_from_db()
    assert checkout.refund_due_since is None


def test_a_double_click_on_pay_opens_one_payment_page(fake_stripe, clinic):
    """Two posts of the confirm step with the same key at once: the second waits for the
    first's payment page and is sent to it, rather than finding its own times held."""
    treatment, practitioner = clinic
    patient = PatientFactory()
    results, errors = race(
        [lambda: start(patient, treatment, practitioner, key="journey-1", now=NOW)] * 2
    )
    assert errors == [], errors
    first, second = results
    assert first.pk == second.pk and first.status == second.status == S.OPEN
    assert first.url == second.url and first.url.startswith(fake_stripe.checkout_origin)
    assert len(fake_stripe.sessions) == 1 and DepositCheckout.objects.count() == 1
    assert Session.with_holds.held().count() == 3
