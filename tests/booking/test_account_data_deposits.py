"""A patient with online deposits downloads their data and deletes their account (beside
test_account_data.py): the export lists the deposits, and deleting releases a time still
held, closes its Checkout at Stripe, forgets the health answers a deposit kept, and keeps
the amounts. Stripe is the local fake (tests/payments/fake_stripe.py)."""

import json
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.urls import reverse

from booking.availability import Slot
from booking.deposits import services as deposits
from booking.deposits.models import DepositCheckout
from booking.ledger.models import LedgerEntry
from booking.models import Session
from tests.booking.factories import PatientFactory, UserFactory, agreed
from tests.booking.test_account_data import EMAIL, NAME, PASSWORD
from tests.education.factories import usual_questions
from tests.helpers import at
from tests.payments import conftest as payments
from tests.payments.signing import WEBHOOK_PATH, signed

pytestmark = pytest.mark.django_db
D = Decimal
S = DepositCheckout.Status
K = LedgerEntry.Kind
# The local Stripe's fixtures (tests/payments/conftest.py), for this module too.
fake_stripe_server, fake_stripe = payments.fake_stripe_server, payments.fake_stripe


@pytest.fixture
def priced(treatment):
    treatment.session_price, treatment.package_price = D("180.00"), D("480.00")
    treatment.deposit, treatment.deposit_value = "fixed", D("50.00")
    treatment.save()
    usual_questions(treatment)  # answered "no" by agreed(): health answers the deposit keeps
    return treatment


@pytest.fixture
def payer(db):
    return PatientFactory(full_name=NAME, user=UserFactory(email=EMAIL, full_name=NAME))


@pytest.fixture
def signed_in(client, payer):
    client.force_login(payer.user)
    return client


def start(patient, treatment, practitioner, starts, key):
    length = timedelta(minutes=treatment.appointment_minutes)
    agreement = agreed(treatment)
    return deposits.checkout_start(
        patient=patient,
        treatment=treatment,
        slots=[Slot(s, s + length, practitioner.pk) for s in starts],
        key=key,
        return_url=lambda c: f"http://testserver/book/deposit/{c.pk}/",
        answers=agreement["answers"],
        consent=agreement["consent"],
    )


def deliver(client, fake, event):
    body, headers = signed(event, fake.secret)
    response = client.post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    return response


def test_the_export_holds_the_online_deposits_without_stripes_ids(
    signed_in, now, fake_stripe, payer, priced, practitioner, django_capture_on_commit_callbacks
):
    booked = start(payer, priced, practitioner, [at(6, 10), at(7, 8)], key="one")
    late = start(payer, priced, practitioner, [at(6, 12)], key="two")
    paid_late = fake_stripe.pay(late.stripe_session)
    expired = fake_stripe.event(
        "checkout.session.expired", {**paid_late["data"]["object"], "status": "expired"}
    )
    deliver(signed_in, fake_stripe, expired)
    with django_capture_on_commit_callbacks(execute=True):
        deliver(signed_in, fake_stripe, paid_late)  # after its times were released: refunded
    deliver(signed_in, fake_stripe, fake_stripe.pay(booked.stripe_session))
    booked.refresh_from_db()
    late.refresh_from_db()
    assert (booked.status, late.status) == (S.BOOKED, S.REFUNDED)

    body = signed_in.get(reverse("account_data_json")).content.decode()
    data = json.loads(body)
    first, second = data["online_deposits"]
    assert (first["treatment"], first["amount"], first["currency"], first["status"]) == (
        "Microneedling",
        "50.00",
        "GBP",
        "booked",
    )
    assert first["started"] and first["times_held_until"] and first["course_booked_at"]
    assert first["ledger"] == []  # a booked deposit's payment is in its course's ledger
    (course,) = data["courses"]
    assert ("payment", "50.00", "online") in {
        (e["kind"], e["amount"], e["paid_by"]) for e in course["ledger"]
    }
    assert (second["status"], second["course_booked_at"]) == ("refunded", None)
    assert [(e["kind"], e["amount"], e["paid_by"]) for e in second["ledger"]] == [
        ("payment", "50.00", "online"),
        ("refund", "50.00", "online"),
    ]
    refund = LedgerEntry.objects.get(checkout=late, kind=K.REFUND)
    for stripe_id in (booked.stripe_session, booked.payment_intent, refund.provider_ref):
        assert stripe_id not in body
    assert "answers" not in json.dumps(data["online_deposits"])


def test_deleting_releases_a_time_held_for_a_deposit_and_forgets_its_answers(
    signed_in, now, fake_stripe, payer, priced, practitioner, django_capture_on_commit_callbacks
):
    checkout = start(payer, priced, practitioner, [at(6, 10), at(7, 8)], key="held")
    assert checkout.status == S.OPEN and checkout.answers
    assert Session.with_holds.held().count() == 2
    with django_capture_on_commit_callbacks(execute=True):
        response = signed_in.post(reverse("account_delete"), {"password": PASSWORD})
    assert response.status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == S.RELEASED and checkout.answers == {}
    assert (checkout.amount, checkout.currency) == (D("50.00"), "GBP")  # the amounts stay
    assert not Session.with_holds.held().exists()  # the practitioner's time is free again
    # Its Checkout is closed at Stripe, so it can no longer be paid.
    assert fake_stripe.sessions[checkout.stripe_session]["status"] == "expired"
    assert str(checkout) == f"Deposit {checkout.pk} for Deleted patient {payer.pk}"


def test_a_deposit_paid_as_the_account_closed_is_refunded_without_an_email(
    signed_in,
    client,
    now,
    fake_stripe,
    payer,
    priced,
    practitioner,
    django_capture_on_commit_callbacks,
):
    checkout = start(payer, priced, practitioner, [at(6, 10)], key="paying")
    paid = fake_stripe.pay(checkout.stripe_session)  # paying on Stripe's page meanwhile
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("account_delete"), {"password": PASSWORD})
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        deliver(client, fake_stripe, paid)
    checkout.refresh_from_db()
    assert checkout.status == S.REFUNDED and checkout.course is None
    assert [(e.kind, e.amount) for e in LedgerEntry.objects.filter(checkout=checkout)] == [
        (K.PAYMENT, D("50.00")),
        (K.REFUND, D("50.00")),
    ]
    assert mail.outbox == []  # their address is gone
    for entry in LedgerEntry.objects.filter(checkout=checkout):
        assert NAME not in entry.reason and EMAIL not in entry.reason


def test_deleting_cancels_a_course_booked_by_deposit_and_refunds_it_through_stripe(
    signed_in, now, fake_stripe, payer, priced, practitioner, django_capture_on_commit_callbacks
):
    checkout = start(payer, priced, practitioner, [at(6, 10), at(7, 8)], key="booked")
    deliver(signed_in, fake_stripe, fake_stripe.pay(checkout.stripe_session))
    with django_capture_on_commit_callbacks(execute=True):
        signed_in.post(reverse("account_delete"), {"password": PASSWORD})
    checkout.refresh_from_db()
    assert checkout.status == S.BOOKED and checkout.answers == {}
    assert checkout.refund_due_since is not None  # the sweep gives it back
    assert deposits.deposits_sweep(now=now)["refunded"] == 1
    refund = checkout.course.ledger.get(kind=K.REFUND)
    assert (refund.amount, refund.method) == (D("50.00"), "online")
