"""Online deposits against the local Stripe (tests/payments/fake_stripe.py): the real stripe
library, events signed with the test secret, the webhook view as Stripe calls it."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail

from booking import services
from booking.availability import Slot
from booking.deposits import services as deposits
from booking.deposits.models import DepositCheckout, PaymentEvent
from booking.ledger.models import LedgerEntry
from booking.models import Course, Session
from tests.booking.conftest import NOW
from tests.booking.factories import agreed
from tests.helpers import at
from tests.payments.signing import WEBHOOK_PATH, signed

pytestmark = pytest.mark.django_db
D = Decimal
S = DepositCheckout.Status
K = LedgerEntry.Kind


@pytest.fixture
def priced(treatment, practitioner):
    treatment.session_price, treatment.package_price = D("180.00"), D("480.00")
    treatment.deposit, treatment.deposit_value = "fixed", D("50.00")
    treatment.save()
    return treatment


def slots_for(treatment, practitioner, starts):
    length = timedelta(minutes=treatment.appointment_minutes)
    return [Slot(s, s + length, practitioner.pk) for s in starts]


def start(patient, treatment, practitioner, starts=None, key="journey-1"):
    agreement = agreed(treatment)
    return deposits.checkout_start(
        patient=patient,
        treatment=treatment,
        slots=slots_for(treatment, practitioner, starts or [at(6, 10), at(7, 8), at(8, 5)]),
        key=key,
        return_url=lambda c: f"http://testserver/book/deposit/{c.pk}/",
        answers=agreement["answers"],
        consent=agreement["consent"],
    )


def post_event(client, fake, event, **kwargs):
    body, headers = signed(event, fake.secret, **kwargs)
    return client.post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)


def test_a_paid_checkout_books_the_course_once(
    client, now, fake_stripe, patient, priced, practitioner
):
    checkout = start(patient, priced, practitioner)
    assert checkout.status == S.OPEN and checkout.url.startswith(fake_stripe.checkout_origin)
    assert Session.with_holds.held().count() == 3 and not Course.objects.exists()
    event = fake_stripe.pay(checkout.stripe_session)
    for _ in range(3):
        assert post_event(client, fake_stripe, event).status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == S.BOOKED, checkout.ended_reason
    course = checkout.course
    assert course.sessions.count() == 3 and not Session.with_holds.held().exists()
    payments = LedgerEntry.objects.filter(kind=K.PAYMENT)
    assert [(p.amount, p.method, p.course_id) for p in payments] == [
        (D("50.00"), "online", course.pk)
    ]
    assert PaymentEvent.objects.count() == 1


def test_forged_event_changes_nothing(client, now, fake_stripe, patient, priced, practitioner):
    checkout = start(patient, priced, practitioner)
    event = fake_stripe.pay(checkout.stripe_session)
    response = post_event(client, fake_stripe, event, tamper=True)
    assert response.status_code in (400, 403)
    assert not Course.objects.exists() and not PaymentEvent.objects.exists()


def test_expired_checkout_releases_the_hold_and_a_late_payment_is_refunded(
    client, now, fake_stripe, patient, priced, practitioner, django_capture_on_commit_callbacks
):
    checkout = start(patient, priced, practitioner)
    paid = fake_stripe.pay(checkout.stripe_session)
    expired = fake_stripe.event(
        "checkout.session.expired", {**paid["data"]["object"], "status": "expired"}
    )
    assert post_event(client, fake_stripe, expired).status_code == 200
    assert not Session.with_holds.held().exists()
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(client, fake_stripe, paid).status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == S.REFUNDED and not Course.objects.exists()
    entries = LedgerEntry.objects.filter(checkout=checkout).order_by("pk")
    assert [(e.kind, e.amount) for e in entries] == [
        (K.PAYMENT, D("50.00")),
        (K.REFUND, D("50.00")),
    ]
    refund_id = entries[1].provider_ref
    assert post_event(client, fake_stripe, fake_stripe.refund_event(refund_id)).status_code == 200
    assert LedgerEntry.objects.filter(kind=K.REFUND).count() == 1
    assert any("refunded" in m.subject for m in mail.outbox)


def test_stripe_timing_out_leaves_nothing_held(now, fake_stripe, patient, priced, practitioner):
    fake_stripe.fail_next("timeout", times=2)
    with pytest.raises(deposits.PaymentUnavailable):
        start(patient, priced, practitioner)
    assert not Session.with_holds.held().exists()
    assert DepositCheckout.objects.get().status == S.RELEASED


def test_cancelling_in_time_refunds_the_deposit_through_stripe(
    client, now, fake_stripe, patient, priced, practitioner
):
    checkout = start(patient, priced, practitioner)
    post_event(client, fake_stripe, fake_stripe.pay(checkout.stripe_session))
    checkout.refresh_from_db()
    services.course_cancel(course=checkout.course)
    result = deposits.deposits_sweep(now=NOW)
    assert result["refunded"] == 1
    refunds = LedgerEntry.objects.filter(kind=K.REFUND)
    assert [(r.amount, r.method) for r in refunds] == [(D("50.00"), "online")]
    assert deposits.deposits_sweep(now=NOW)["refunded"] == 0
