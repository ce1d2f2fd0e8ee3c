"""Online deposits against the local Stripe (tests/payments/fake_stripe.py): the real stripe
library, events signed with the test secret, the webhook view as Stripe calls it.

The treatment costs £480.00 for a course of 3, with a fixed £50.00 deposit. The clock
stands at Monday 1 June 2026, 08:00; the course is 10 June, 8 July and 5 August, 10:00.

1. a paid Checkout books the course once, however often its event comes;
2. events out of order: late payments refunded, refunds recorded once;
3. forged events change nothing, and only they are rate-limited;
4. an expired Checkout releases its hold (webhook, or the sweep);
5. Stripe failing leaves nothing half-saved, and a failed refund is tried again, once;
6. cancellations: refunded through Stripe, or the deposit kept by the policy;
7. the confirm step, with and without the keys;
8. too soon to pay online;
9. no patient data in the logs.
"""

import logging
import re
from datetime import timedelta
from decimal import Decimal

import pytest
import requests
from django.core import mail
from django.template import Context, Template
from django.urls import reverse

from booking import attendance, rulebook, services
from booking.availability import Slot
from booking.deposits import services as deposits
from booking.deposits.models import DepositCheckout, PaymentEvent
from booking.ledger.models import LedgerEntry
from booking.models import BookingRules, Course, Reminder, Session
from booking.services import BookingError
from booking.waitlist.models import FreedTime
from clinic.emails import KIND_HEADER
from tests.booking.conftest import NOW, clinic_ready  # noqa: F401 (a fixture)
from tests.booking.factories import PatientFactory, UserFactory, agreed
from tests.booking.test_journey import walk_to_plan
from tests.helpers import at, book
from tests.payments.signing import WEBHOOK_PATH, sign, signed

pytestmark = pytest.mark.django_db
D = Decimal
S = DepositCheckout.Status
K = LedgerEntry.Kind
STARTS = [at(6, 10), at(7, 8), at(8, 5)]
CONFIRM = reverse("booking:confirm")


@pytest.fixture(autouse=True)
def quick_retries(monkeypatch):
    """The stripe library waits half a second or more before its one retry: not here."""
    from stripe._http_client import HTTPClient

    monkeypatch.setattr(HTTPClient, "INITIAL_DELAY", 0.01)
    monkeypatch.setattr(HTTPClient, "MAX_DELAY", 0.01)


def slots_for(treatment, practitioner, starts):
    length = timedelta(minutes=treatment.appointment_minutes)
    return [Slot(s, s + length, practitioner.pk) for s in starts]


def start(patient, treatment, practitioner, starts=None, key="journey-1", now=None):
    agreement = agreed(treatment)
    return deposits.checkout_start(
        patient=patient,
        treatment=treatment,
        slots=slots_for(treatment, practitioner, starts or STARTS),
        key=key,
        return_url=lambda c: f"http://testserver/book/deposit/{c.pk}/",
        answers=agreement["answers"],
        consent=agreement["consent"],
        now=now,
    )


def post_event(client, fake, event, **kwargs):
    body, headers = signed(event, fake.secret, **kwargs)
    return client.post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)


def refund_calls(fake):
    return [c for c in fake.calls if (c.method, c.path) == ("POST", "/v1/refunds")]


@pytest.fixture
def opened(now, fake_stripe, patient, priced, practitioner):
    """The patient's checkout, open at Stripe: the course's three times held."""
    return start(patient, priced, practitioner)


@pytest.fixture
def booked(client, opened, fake_stripe):
    """The checkout paid and its course booked by the webhook."""
    post_event(client, fake_stripe, fake_stripe.pay(opened.stripe_session))
    opened.refresh_from_db()
    assert opened.status == S.BOOKED, opened.ended_reason
    return opened


def late(client, fake, checkout, capture):
    """Stripe's page expires (its webhook comes), then the payment's webhook comes."""
    paid = fake.pay(checkout.stripe_session)
    expired = fake.event(
        "checkout.session.expired", {**paid["data"]["object"], "status": "expired"}
    )
    assert post_event(client, fake, expired).json()["result"] == "released"
    with capture(execute=True):
        answer = post_event(client, fake, paid)
    assert answer.status_code == 200 and answer.json()["result"] == "late"
    checkout.refresh_from_db()
    return paid


# -- 1. a paid Checkout books the course once ----------------------------------------


def test_a_paid_checkout_books_the_course_once(client, fake_stripe, opened):
    checkout = opened
    assert checkout.status == S.OPEN and checkout.url.startswith(fake_stripe.checkout_origin)
    assert Session.with_holds.held().count() == 3 and not Course.objects.exists()
    assert not Reminder.objects.exists() and not LedgerEntry.objects.exists()
    (create,) = fake_stripe.calls
    assert create.params["client_reference_id"] == str(checkout.pk)
    assert create.params["metadata"] == {"checkout": str(checkout.pk)}
    assert create.params["payment_method_types"] == ["card"]
    assert "customer_email" not in create.params  # nothing about the patient goes to Stripe
    assert create.params["line_items"][0]["price_data"]["unit_amount"] == "5000"
    assert int(create.params["expires_at"]) == int(checkout.expires_at.timestamp())
    event = fake_stripe.pay(checkout.stripe_session)
    for _ in range(3):
        assert post_event(client, fake_stripe, event).status_code == 200
    checkout.refresh_from_db()
    assert checkout.status == S.BOOKED, checkout.ended_reason
    course = checkout.course
    assert course.sessions.count() == 3 and not Session.with_holds.held().exists()
    assert [s.start for s in course.sessions.order_by("number")] == STARTS
    payment_intent = event["data"]["object"]["payment_intent"]
    assert checkout.payment_intent == payment_intent
    payments = LedgerEntry.objects.filter(kind=K.PAYMENT)
    assert [(p.amount, p.method, p.course_id, p.provider_ref) for p in payments] == [
        (D("50.00"), "online", course.pk, payment_intent)
    ]
    kinds = set(Reminder.objects.values_list("kind", flat=True))
    assert {Reminder.Kind.CONFIRMATION, Reminder.Kind.REMINDER} <= kinds
    reminders = Reminder.objects.count()
    assert list(PaymentEvent.objects.values_list("result", flat=True)) == ["booked"]
    # Stripe sends a second event (its own new id) about the same completed session.
    again = fake_stripe.event("checkout.session.completed", event["data"]["object"])
    assert post_event(client, fake_stripe, again).json()["result"] == "already paid"
    assert Course.objects.count() == 1 and Reminder.objects.count() == reminders
    assert LedgerEntry.objects.filter(kind=K.PAYMENT).count() == 1
    assert PaymentEvent.objects.count() == 2
    assert refund_calls(fake_stripe) == []


def test_a_checkout_not_yet_paid_books_nothing(client, fake_stripe, opened):
    """A delayed method (a bank debit): completed but unpaid; async_payment_succeeded books."""
    session = {**fake_stripe.sessions[opened.stripe_session], "status": "complete"}
    unpaid = fake_stripe.event("checkout.session.completed", session)
    assert post_event(client, fake_stripe, unpaid).json()["result"] == "not paid yet"
    assert not Course.objects.exists() and Session.with_holds.held().count() == 3
    paid = fake_stripe.pay(opened.stripe_session)
    succeeded = fake_stripe.event(
        "checkout.session.async_payment_succeeded", paid["data"]["object"]
    )
    assert post_event(client, fake_stripe, succeeded).json()["result"] == "booked"
    assert post_event(client, fake_stripe, paid).json()["result"] == "already paid"
    assert Course.objects.count() == 1
    assert LedgerEntry.objects.filter(kind=K.PAYMENT).count() == 1


# -- 2. events out of order ---------------------------------------------------------


def test_expired_after_completed_is_ignored(client, fake_stripe, booked):
    session = {**fake_stripe.sessions[booked.stripe_session], "status": "expired"}
    expired = fake_stripe.event("checkout.session.expired", session)
    assert post_event(client, fake_stripe, expired).json()["result"] == "ignored"
    booked.refresh_from_db()
    assert booked.status == S.BOOKED and booked.course.sessions.active().count() == 3
    assert not FreedTime.objects.exists()


def test_completed_after_expired_is_refunded_in_full_and_the_patient_told(
    client, fake_stripe, opened, patient, django_capture_on_commit_callbacks
):
    checkout = opened
    paid = late(client, fake_stripe, checkout, django_capture_on_commit_callbacks)
    assert checkout.status == S.REFUNDED and checkout.refund_due_since is None
    assert not Course.objects.exists() and checkout.course is None
    (call,) = refund_calls(fake_stripe)
    payment_intent = paid["data"]["object"]["payment_intent"]
    assert call.params == {"payment_intent": payment_intent, "amount": "5000"}
    (refund,) = fake_stripe.refunds.values()
    entries = LedgerEntry.objects.order_by("pk")
    assert [
        (e.kind, e.amount, e.method, e.course_id, e.checkout_id, e.provider_ref) for e in entries
    ] == [
        (K.PAYMENT, D("50.00"), "online", None, checkout.pk, payment_intent),
        (K.REFUND, D("50.00"), "online", None, checkout.pk, refund["id"]),
    ]
    (message,) = [m for m in mail.outbox if m.extra_headers.get(KIND_HEADER)]
    assert message.extra_headers[KIND_HEADER] == "booking.deposit_refunded"
    assert message.to == [patient.user.email]
    times = deposits.nearest_times(checkout, NOW)
    assert times
    first = Template("{% load booking_times %}{{ slot|when }}").render(Context({"slot": times[0]}))
    assert "refunded your £50.00 in full" in message.body and f"- {first}" in message.body
    # The page Stripe sends the patient back to says the same.
    client.force_login(patient.user)
    page = client.get(reverse("booking:deposit_status", args=[checkout.pk])).content.decode()
    assert "We have refunded your £50.00 in full" in page and first in page
    # Stripe's own refund.created for it, later: nothing more.
    answer = post_event(client, fake_stripe, fake_stripe.refund_event(refund["id"]))
    assert answer.json()["result"] == "already recorded"
    assert LedgerEntry.objects.filter(kind=K.REFUND).count() == 1
    assert deposits.deposits_sweep(now=NOW) == {"released": 0, "refunded": 0}
    assert len(refund_calls(fake_stripe)) == 1


def test_a_refund_reported_before_ours_is_recorded_counts_once(
    client, settings, fake_stripe, opened, patient, django_capture_on_commit_callbacks
):
    """Our refund call fails after Stripe made the refund (or staff refunded it in Stripe's
    dashboard): its refund.created is the first word of it, and the sweep refunds no more."""
    checkout = opened
    fake_stripe.fail_next("server_error", times=2)  # the automatic refund, and its retry
    paid = late(client, fake_stripe, checkout, django_capture_on_commit_callbacks)
    assert checkout.status == S.LATE and checkout.refund_due_since == NOW
    assert not fake_stripe.refunds and not LedgerEntry.objects.filter(kind=K.REFUND).exists()
    made = requests.post(
        f"{fake_stripe.origin}/v1/refunds",
        data={"payment_intent": paid["data"]["object"]["payment_intent"]},
        headers={"Authorization": f"Bearer {fake_stripe.api_key}"},
        timeout=5,
    ).json()
    event = fake_stripe.refund_event(made["id"])
    for _ in range(2):
        post_event(client, fake_stripe, event)
    assert PaymentEvent.objects.get(event_id=event["id"]).result == "refund recorded"
    refunds = LedgerEntry.objects.filter(kind=K.REFUND)
    assert [(r.amount, r.provider_ref, r.checkout_id) for r in refunds] == [
        (D("50.00"), made["id"], checkout.pk)
    ]
    calls = len(fake_stripe.calls)
    with django_capture_on_commit_callbacks(execute=True):
        assert deposits.deposits_sweep(now=NOW + timedelta(minutes=1))["refunded"] == 0
    assert len(fake_stripe.calls) == calls  # nothing more asked of Stripe
    checkout.refresh_from_db()
    assert checkout.status == S.REFUNDED and checkout.refund_due_since is None
    assert LedgerEntry.objects.filter(kind=K.REFUND).count() == 1
    # The patient is told, as after our own refund.
    kinds = [m.extra_headers.get(KIND_HEADER) for m in mail.outbox]
    assert kinds.count("booking.deposit_refunded") == 1


def test_a_failed_refund_is_corrected_once(
    client, fake_stripe, opened, django_capture_on_commit_callbacks
):
    late(client, fake_stripe, opened, django_capture_on_commit_callbacks)
    (refund,) = fake_stripe.refunds.values()
    failed = {**refund, "status": "failed", "failure_reason": "expired_or_canceled_card"}
    fake_stripe.refunds[refund["id"]].update(status="failed")  # as Stripe sees it now
    event = fake_stripe.refund_event(failed, type="refund.updated")
    assert post_event(client, fake_stripe, event).json()["result"] == "refund failed"
    assert post_event(client, fake_stripe, event).json()["result"] == "duplicate"
    again = fake_stripe.refund_event(failed, type="refund.updated")
    assert post_event(client, fake_stripe, again).json()["result"] == "ignored"
    (correction,) = LedgerEntry.objects.filter(kind=K.REFUND_REVERSED)
    assert correction.amount == D("50.00") and correction.refers_to.provider_ref == refund["id"]
    assert correction.checkout_id == opened.pk
    # Still owed: the next sweep refunds it again, once, under a new idempotency key.
    with django_capture_on_commit_callbacks(execute=True):
        assert deposits.deposits_sweep(now=NOW + timedelta(minutes=1))["refunded"] == 1
        assert deposits.deposits_sweep(now=NOW + timedelta(minutes=2))["refunded"] == 0
    refunds = LedgerEntry.objects.filter(kind=K.REFUND, checkout=opened).order_by("pk")
    assert [r.amount for r in refunds] == [D("50.00"), D("50.00")]
    assert len(fake_stripe.refunds) == 2


def test_a_failed_refund_reported_before_the_refund_is_recorded_counts_as_failed(
    client, fake_stripe, booked
):
    """refund.updated (failed) can come before refund.created: both recorded, as failed."""
    services.course_cancel(course=booked.course, now=NOW)
    made = requests.post(
        f"{fake_stripe.origin}/v1/refunds",
        data={"payment_intent": booked.payment_intent},
        headers={"Authorization": f"Bearer {fake_stripe.api_key}"},
        timeout=5,
    ).json()
    failed = fake_stripe.refund_event({**made, "status": "failed"}, type="refund.updated")
    created = fake_stripe.refund_event(made["id"])
    assert post_event(client, fake_stripe, failed).json()["result"] == "refund failed"
    assert post_event(client, fake_stripe, created).json()["result"] == "already recorded"
    entries = LedgerEntry.objects.filter(kind__in=[K.REFUND, K.REFUND_REVERSED]).order_by("pk")
    assert [(e.kind, e.amount) for e in entries] == [
        (K.REFUND, D("50.00")),
        (K.REFUND_REVERSED, D("50.00")),
    ]


def test_another_payment_on_the_clinics_stripe_account_is_not_ours(client, fake_stripe, opened):
    """A shop on the same Stripe account: its sessions carry references of their own, which
    may look like our checkouts' numbers. Neither booked nor refunded."""
    foreign = {
        **fake_stripe.sessions[opened.stripe_session],
        "id": "cs_test_shop_order_1",
        "client_reference_id": str(opened.pk),
        "metadata": {"order": str(opened.pk)},
        "payment_intent": "pi_shop_order_1",
        "payment_status": "paid",
        "status": "complete",
    }
    for kind in ("checkout.session.completed", "checkout.session.expired"):
        event = fake_stripe.event(kind, foreign)
        assert post_event(client, fake_stripe, event).json()["result"] == "unknown checkout"
    opened.refresh_from_db()
    assert opened.status == S.OPEN and not opened.payment_intent
    assert not LedgerEntry.objects.exists() and refund_calls(fake_stripe) == []


def test_a_checkout_whose_answer_was_lost_and_paid_anyway_is_refunded(
    client,
    settings,
    now,
    fake_stripe,
    patient,
    priced,
    practitioner,
    django_capture_on_commit_callbacks,
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    fake_stripe.fail_next("timeout", times=2)  # Stripe made the session; we never heard
    with pytest.raises(deposits.PaymentUnavailable):
        start(patient, priced, practitioner)
    checkout = DepositCheckout.objects.get()
    assert checkout.status == S.RELEASED and checkout.stripe_session is None
    (session_id,) = fake_stripe.sessions
    with django_capture_on_commit_callbacks(execute=True):
        answer = post_event(client, fake_stripe, fake_stripe.pay(session_id))
    assert answer.json()["result"] == "late"
    checkout.refresh_from_db()
    assert checkout.status == S.REFUNDED and len(fake_stripe.refunds) == 1
    assert not Course.objects.exists()


# -- 3. forged events ------------------------------------------------------------------


def forged(kind: str, event: dict, secret: str) -> tuple[bytes, dict]:
    if kind == "tampered":
        return signed(event, secret, tamper=True)
    if kind == "wrong secret":
        return signed(event, "whsec_not_ours")
    if kind == "stale":
        return signed(event, secret, timestamp=int(NOW.timestamp()) - 301)
    body, headers = signed(event, secret)
    if kind == "no header":
        del headers["Stripe-Signature"]
    elif kind == "not json":
        body = b"{not json"
        headers["Stripe-Signature"] = sign(body, secret)
    return body, headers


FORGERIES = ["tampered", "wrong secret", "no header", "stale", "not json"]


@pytest.mark.parametrize("kind", FORGERIES)
def test_a_forged_event_changes_nothing(client, fake_stripe, opened, kind):
    event = fake_stripe.pay(opened.stripe_session)
    body, headers = forged(kind, event, fake_stripe.secret)
    response = client.post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)
    assert response.status_code in (400, 403)
    assert not PaymentEvent.objects.exists() and not Course.objects.exists()
    assert not LedgerEntry.objects.exists()
    opened.refresh_from_db()
    assert opened.status == S.OPEN and Session.with_holds.held().count() == 3


def test_a_forged_event_meets_the_csrf_check(fake_stripe, opened):
    """The view is CSRF-exempt only for what Stripe signed: anything else gets Django's 403."""
    from django.test import Client

    event = fake_stripe.pay(opened.stripe_session)
    body, headers = forged("tampered", event, fake_stripe.secret)
    strict = Client(enforce_csrf_checks=True)
    response = strict.post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)
    assert response.status_code == 403
    body, headers = signed(event, fake_stripe.secret)
    response = strict.post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)
    assert response.status_code == 200 and response.json()["result"] == "booked"


def test_only_forged_posts_are_rate_limited(client, settings, fake_stripe, opened):
    limit, _period = settings.RATE_LIMIT_WEBHOOK_FORGED
    assert limit == 20
    event = fake_stripe.pay(opened.stripe_session)
    for _ in range(limit + 5):  # signed ones do not count
        assert post_event(client, fake_stripe, event).status_code == 200
    body, headers = forged("wrong secret", event, fake_stripe.secret)
    answers = [
        client.post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)
        for _ in range(limit + 1)
    ]
    assert {a.status_code for a in answers[:limit]} <= {400, 403}
    assert answers[limit].status_code == 429 and int(answers[limit]["Retry-After"]) > 0
    # Another address is counted on its own; and Stripe's own posts still go through.
    other = client.post(
        WEBHOOK_PATH, body, content_type="application/json", headers=headers, REMOTE_ADDR="10.0.0.9"
    )
    assert other.status_code in (400, 403)
    again = fake_stripe.event("checkout.session.completed", event["data"]["object"])
    assert post_event(client, fake_stripe, again).status_code == 200
    assert PaymentEvent.objects.count() == 2


def test_a_signed_event_of_an_unknown_type_is_recorded_and_ignored(client, fake_stripe, opened):
    event = fake_stripe.event("customer.created", {"id": "cus_123", "object": "customer"})
    response = post_event(client, fake_stripe, event)
    assert response.status_code == 200 and response.json()["result"] == "ignored"
    seen = PaymentEvent.objects.get()
    assert (seen.event_id, seen.type, seen.result) == (event["id"], "customer.created", "ignored")
    opened.refresh_from_db()
    assert opened.status == S.OPEN


def test_without_the_keys_there_is_no_webhook(client, settings, fake_stripe, opened):
    event = fake_stripe.pay(opened.stripe_session)
    settings.STRIPE_WEBHOOK_SECRET = ""
    assert post_event(client, fake_stripe, event).status_code == 404
    assert not PaymentEvent.objects.exists()


# -- 4. an expired Checkout ---------------------------------------------------------------


def assert_released(checkout):
    checkout.refresh_from_db()
    assert checkout.status == S.RELEASED and checkout.course is None
    holds = deposits.held_times(checkout)
    assert [h.status for h in holds] == [Session.Status.CANCELLED] * 3
    freed = FreedTime.objects.filter(start__in=[h.start for h in holds])
    assert sorted((f.start, f.cause) for f in freed) == [(s, "deposit") for s in STARTS]


def test_the_expired_webhook_releases_the_hold(client, fake_stripe, opened):
    event = fake_stripe.expire(opened.stripe_session)
    assert post_event(client, fake_stripe, event).json()["result"] == "released"
    assert_released(opened)
    assert not Session.with_holds.held().exists() and not Course.objects.exists()
    assert post_event(client, fake_stripe, event).json()["result"] == "duplicate"
    assert FreedTime.objects.count() == 3


def test_the_sweep_releases_a_hold_whose_webhook_never_came(
    fake_stripe, opened, priced, practitioner
):
    other = start(
        PatientFactory(),
        priced,
        practitioner,
        [s + timedelta(hours=2) for s in STARTS],
        key="journey-2",
    )
    DepositCheckout.objects.filter(pk=other.pk).update(
        expires_at=opened.expires_at + timedelta(minutes=5)
    )
    assert deposits.deposits_sweep(now=opened.expires_at + timedelta(seconds=30))["released"] == 0
    assert deposits.deposits_sweep(now=opened.expires_at + timedelta(minutes=2)) == {
        "released": 1,
        "refunded": 0,
    }
    assert_released(opened)
    other.refresh_from_db()
    assert other.status == S.OPEN
    assert Session.with_holds.held().filter(patient=other.patient).count() == 3
    assert deposits.deposits_sweep(now=opened.expires_at + timedelta(minutes=3))["released"] == 0


# -- 5. Stripe failing ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("failure", "times"), [("timeout", 2), ("server_error", 2), ("card_error", 1), ("invalid", 1)]
)
def test_stripe_failing_at_the_start_leaves_nothing_held(
    now, settings, fake_stripe, patient, priced, practitioner, failure, times
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    fake_stripe.fail_next(failure, times=times)
    with pytest.raises(deposits.PaymentUnavailable) as refused:
        start(patient, priced, practitioner)
    assert "nothing was taken" in refused.value.message
    assert len(fake_stripe.calls) == times  # the library tried once more after a timeout
    assert not Session.with_holds.held().exists()
    checkout = DepositCheckout.objects.get()
    assert checkout.status == S.RELEASED and not checkout.stripe_session
    assert not LedgerEntry.objects.exists() and not Course.objects.exists()
    assert not Reminder.objects.exists()


def test_a_refund_that_times_out_is_made_once_by_the_next_sweep(
    client, settings, fake_stripe, opened, django_capture_on_commit_callbacks
):
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    fake_stripe.fail_next("timeout", times=2)  # Stripe makes the refund; its answer is lost
    late(client, fake_stripe, opened, django_capture_on_commit_callbacks)
    assert opened.status == S.LATE and opened.refund_due_since == NOW
    assert not LedgerEntry.objects.filter(kind=K.REFUND).exists()
    assert len(fake_stripe.refunds) == 1  # made at Stripe, not known here
    with django_capture_on_commit_callbacks(execute=True):
        assert deposits.deposits_sweep(now=NOW + timedelta(minutes=1))["refunded"] == 1
    calls = refund_calls(fake_stripe)
    assert len(calls) == 3 and len({c.idempotency_key for c in calls}) == 1
    (refund,) = fake_stripe.refunds.values()
    assert LedgerEntry.objects.get(kind=K.REFUND).provider_ref == refund["id"]
    opened.refresh_from_db()
    assert opened.status == S.REFUNDED and opened.refund_due_since is None
    assert deposits.deposits_sweep(now=NOW + timedelta(minutes=2))["refunded"] == 0
    assert len(refund_calls(fake_stripe)) == 3


def test_a_refund_stripe_refuses_is_tried_again_by_the_sweep(
    client, fake_stripe, opened, django_capture_on_commit_callbacks
):
    fake_stripe.fail_next("invalid")
    late(client, fake_stripe, opened, django_capture_on_commit_callbacks)
    assert opened.status == S.LATE and not fake_stripe.refunds
    assert not [m for m in mail.outbox if m.extra_headers.get(KIND_HEADER)]
    with django_capture_on_commit_callbacks(execute=True):
        assert deposits.deposits_sweep(now=NOW + timedelta(minutes=1))["refunded"] == 1
    assert len(fake_stripe.refunds) == 1
    assert LedgerEntry.objects.filter(kind=K.REFUND).count() == 1
    assert len([m for m in mail.outbox if m.extra_headers.get(KIND_HEADER)]) == 1


# -- 6. cancellations ------------------------------------------------------------------


def deposit_policy(event="late_cancel"):
    rules = BookingRules.current()
    setattr(rules, f"{event}_outcome", rulebook.DEPOSIT)
    rules.full_clean()
    rules.save()


def test_a_course_cancelled_in_good_time_is_refunded_through_stripe_once(fake_stripe, booked):
    services.course_cancel(course=booked.course, now=NOW)
    booked.refresh_from_db()
    assert booked.refund_due_since == NOW
    assert deposits.deposits_sweep(now=NOW)["refunded"] == 1
    refunds = LedgerEntry.objects.filter(kind=K.REFUND)
    assert [(r.amount, r.method, r.course_id) for r in refunds] == [
        (D("50.00"), "online", booked.course_id)
    ]
    (call,) = refund_calls(fake_stripe)
    assert call.params["amount"] == "5000" and call.idempotency_key
    assert refunds.get().provider_ref == next(iter(fake_stripe.refunds))
    assert deposits.deposits_sweep(now=NOW)["refunded"] == 0
    assert len(refund_calls(fake_stripe)) == 1
    booked.refresh_from_db()
    assert booked.refund_due_since is None and booked.status == S.BOOKED


def test_one_session_cancelled_leaves_the_deposit_paid_towards_the_rest(fake_stripe, booked):
    services.session_cancel(session=booked.course.sessions.get(number=3), now=NOW)
    assert deposits.deposits_sweep(now=NOW)["refunded"] == 0
    assert refund_calls(fake_stripe) == [] and not LedgerEntry.objects.filter(kind=K.REFUND)
    booked.refresh_from_db()
    assert booked.refund_due_since is None


def test_the_deposit_kept_policy_keeps_it_once(fake_stripe, booked):
    deposit_policy()
    desk = UserFactory(is_staff=True)
    first, _second, third = booked.course.sessions.order_by("number")
    services.session_cancel(
        session=first, now=first.start - timedelta(hours=3), by_staff=True, by=desk
    )
    (kept,) = LedgerEntry.objects.filter(kind=K.KEPT)
    assert (kept.amount, kept.session_id, kept.event) == (D("50.00"), first.pk, "late_cancel")
    assert deposits.deposits_sweep(now=NOW)["refunded"] == 0
    services.session_cancel(
        session=third, now=third.start - timedelta(hours=3), by_staff=True, by=desk
    )
    assert LedgerEntry.objects.filter(kind=K.KEPT).count() == 1  # nothing more kept
    assert not LedgerEntry.objects.filter(kind=K.FEE).exists()
    assert deposits.deposits_sweep(now=NOW)["refunded"] == 0
    assert refund_calls(fake_stripe) == []


def test_the_deposit_kept_policy_charges_nothing_without_an_online_deposit(
    now, fake_stripe, patient, priced, practitioner
):
    deposit_policy()
    course = book(patient, priced, practitioner, STARTS)  # booked to pay at the clinic
    first = course.sessions.get(number=1)
    services.session_cancel(
        session=first, now=first.start - timedelta(hours=3), by_staff=True, by=UserFactory()
    )
    assert not LedgerEntry.objects.filter(kind__in=[K.KEPT, K.FEE]).exists()
    assert LedgerEntry.objects.filter(kind=K.RELEASED).count() == 1


def test_a_no_show_under_the_deposit_policy_keeps_it(fake_stripe, booked):
    deposit_policy("no_show")
    first = booked.course.sessions.get(number=1)
    attendance.session_mark_no_show(
        session=first, by=UserFactory(is_staff=True), now=first.start + timedelta(minutes=20)
    )
    (kept,) = LedgerEntry.objects.filter(kind=K.KEPT)
    assert (kept.amount, kept.event) == (D("50.00"), "no_show")
    assert deposits.deposits_sweep(now=first.start + timedelta(hours=1))["refunded"] == 0
    assert refund_calls(fake_stripe) == []


# -- 7. the confirm step ----------------------------------------------------------------


def form_action(response) -> str:
    policy = response["Content-Security-Policy"]
    return next(d for d in (p.strip() for p in policy.split(";")) if d.startswith("form-action"))


@pytest.fixture
def at_confirm(client, clinic_ready, patient, practitioner):  # noqa: F811 (the fixture)
    """The patient signed in, the journey walked to the confirm step of a priced course."""
    treatment = clinic_ready
    treatment.session_price, treatment.package_price = D("180.00"), D("480.00")
    treatment.deposit, treatment.deposit_value = "fixed", D("50.00")
    treatment.save()
    client.force_login(patient.user)
    walk_to_plan(client, treatment)
    client.post(reverse("booking:consent"), {"agree": "on"})
    return client


def confirm_page(client):
    page = client.get(CONFIRM)
    assert page.status_code == 200
    html = page.content.decode()
    return page, html, re.search(r'name="key" value="([^"]+)"', html).group(1)


def test_the_confirm_step_offers_the_deposit_and_sends_the_patient_to_stripe(
    at_confirm, fake_stripe
):
    page, html, key = confirm_page(at_confirm)
    assert "You can pay £50.00 online now by card, or pay it all at the clinic." in html
    assert 'name="pay" value="deposit"' in html and 'name="pay" value="clinic"' in html
    assert form_action(page) == f"form-action 'self' {fake_stripe.checkout_origin}"
    response = at_confirm.post(CONFIRM, {"key": key, "pay": "deposit"})
    checkout = DepositCheckout.objects.get()
    assert response.status_code == 303 and response["Location"] == checkout.url
    assert checkout.url.startswith(fake_stripe.checkout_origin + "/c/pay/")
    assert form_action(response) in ("form-action 'self'", form_action(page))
    assert checkout.status == S.OPEN and Session.with_holds.held().count() == 3
    assert not Course.objects.exists()
    # A second click on the same page finds the same payment page.
    again = at_confirm.post(CONFIRM, {"key": key, "pay": "deposit"})
    assert again.status_code == 303 and again["Location"] == checkout.url
    assert DepositCheckout.objects.count() == 1 and len(fake_stripe.calls) == 1


def test_paying_at_the_clinic_books_at_once(at_confirm, fake_stripe):
    _page, _html, key = confirm_page(at_confirm)
    response = at_confirm.post(CONFIRM, {"key": key, "pay": "clinic"})
    course = Course.objects.get()
    assert response.status_code == 302 and response.url == reverse("booking:done", args=[course.pk])
    assert not DepositCheckout.objects.exists() and fake_stripe.calls == []
    assert not LedgerEntry.objects.filter(kind=K.PAYMENT).exists()


def test_a_required_deposit_has_no_pay_at_the_clinic_button(at_confirm, fake_stripe):
    rules = BookingRules.current()
    rules.deposit_required = True
    rules.save()
    _page, html, key = confirm_page(at_confirm)
    assert "£50.00, paid online now by card. You pay the rest" in html
    assert 'value="clinic"' not in html and 'name="pay" value="deposit"' in html
    response = at_confirm.post(CONFIRM, {"key": key, "pay": "clinic"})
    assert response.status_code == 303
    assert response["Location"] == DepositCheckout.objects.get().url
    assert not Course.objects.exists()


@pytest.mark.parametrize("required", [False, True])
def test_stripe_down_at_the_confirm_step_says_so_and_holds_nothing(
    at_confirm, fake_stripe, required
):
    rules = BookingRules.current()
    rules.deposit_required = required
    rules.save()
    _page, _html, key = confirm_page(at_confirm)
    fake_stripe.fail_next("server_error", times=2)
    response = at_confirm.post(CONFIRM, {"key": key, "pay": "deposit"}, follow=True)
    assert response.redirect_chain[0] == (CONFIRM, 302)
    html = response.content.decode()
    assert "We could not reach our card payment service, so nothing was taken" in html
    assert ("book now and pay at the clinic instead" in html) is not required
    assert ("call us to book" in html) is required
    assert not Session.with_holds.held().exists() and not Course.objects.exists()
    assert DepositCheckout.objects.get().status == S.RELEASED
    assert not LedgerEntry.objects.exists()


def test_without_the_keys_the_confirm_step_is_as_before(at_confirm, settings):
    settings.STRIPE_SECRET_KEY = settings.STRIPE_WEBHOOK_SECRET = ""
    page, html, key = confirm_page(at_confirm)
    assert "Paid at the clinic. Nothing is taken now." in html
    assert 'name="pay"' not in html and "deposit" not in html.lower()
    assert form_action(page) == "form-action 'self'"
    response = at_confirm.post(CONFIRM, {"key": key, "pay": "deposit"})
    assert response.status_code == 302 and Course.objects.count() == 1
    assert not DepositCheckout.objects.exists()


def test_confirming_again_with_other_times_lets_the_first_ones_go(
    now, fake_stripe, opened, patient, priced, practitioner
):
    """Back from Stripe's page, the patient changes the sessions and confirms again (the
    journey's key unchanged): not sent to pay for the old times. Those are let go, and the
    confirm step starts afresh with a new key (booking/views/journey/confirm.py)."""
    other = [s + timedelta(hours=2) for s in STARTS]
    again = start(patient, priced, practitioner, other)
    assert again.pk == opened.pk and again.status == S.RELEASED
    assert fake_stripe.sessions[opened.stripe_session]["status"] == "expired"
    assert not Session.with_holds.held().exists()
    fresh = start(patient, priced, practitioner, other, key="journey-2")
    assert fresh.status == S.OPEN and fresh.url != opened.url
    assert sorted(h.start for h in Session.with_holds.held()) == other
    # The same times again: the same payment page.
    assert start(patient, priced, practitioner, other, key="journey-2").url == fresh.url
    assert len(fake_stripe.sessions) == 2


def test_another_patients_deposit_page_is_not_found(client, fake_stripe, opened):
    url = reverse("booking:deposit_status", args=[opened.pk])
    let_go = reverse("booking:deposit_abandon", args=[opened.pk])
    # Signed out (after 30 idle minutes, say): sign in first, then back to this page.
    response = client.get(url)
    assert response.status_code == 302 and response["Location"].startswith("/accounts/login/")
    assert client.post(let_go).status_code in (302, 404)
    client.force_login(PatientFactory().user)
    assert client.get(url).status_code == 404
    assert client.post(let_go).status_code == 404
    opened.refresh_from_db()
    assert opened.status == S.OPEN
    client.force_login(opened.patient.user)
    assert client.get(url).status_code == 200


# -- 8. too soon to pay online ----------------------------------------------------------


def test_a_first_session_too_soon_to_pay_online_is_refused_in_words(
    now, fake_stripe, patient, priced, practitioner
):
    rules = BookingRules.current()
    # At 09:00, a first session at 09:15 tomorrow keeps the 24 hours' notice, but the
    # 31 minutes its times would be held run past it.
    nine = at(6, 1, 9, 0)
    soon = at(6, 2, 9, 15)
    assert soon - rules.min_notice >= nine and soon - rules.min_notice < nine + deposits.HOLD
    with pytest.raises(BookingError) as refused:
        start(patient, priced, practitioner, [soon, soon + timedelta(days=28)], now=nine)
    assert "too soon to pay a deposit online" in refused.value.message
    assert not DepositCheckout.objects.exists() and not Session.with_holds.exists()
    assert fake_stripe.calls == []
    # Half an hour later, it can be paid online.
    later = at(6, 2, 9, 45)
    checkout = start(patient, priced, practitioner, [later, later + timedelta(days=28)], now=nine)
    assert checkout.status == S.OPEN


# -- 9. no patient data in the logs -------------------------------------------------------


def test_a_paid_late_and_refunded_deposit_logs_no_patient_data(
    client, caplog, fake_stripe, now, priced, practitioner, django_capture_on_commit_callbacks
):
    from tests.test_privacy_logs import EMAIL, NAME, PHONE, leaks

    patient = PatientFactory(full_name=NAME, phone=PHONE, user=UserFactory(email=EMAIL))
    caplog.set_level(logging.DEBUG)
    checkout = start(patient, priced, practitioner)
    late(client, fake_stripe, checkout, django_capture_on_commit_callbacks)
    assert checkout.status == S.REFUNDED
    assert [m.to for m in mail.outbox if m.extra_headers.get(KIND_HEADER)] == [[EMAIL]]
    client.force_login(patient.user)
    assert client.get(reverse("booking:deposit_status", args=[checkout.pk])).status_code == 200
    messages = {r.getMessage() for r in caplog.records}
    assert {"deposit checkout opened", "deposit paid late", "deposit refunded"} <= messages
    assert "deposit refund email sent" in messages
    for record in caplog.records:
        text = " ".join([record.getMessage(), *map(repr, vars(record).values())])
        assert leaks(text) == [], (record.name, record.getMessage())


def test_back_from_stripe_the_patient_may_still_choose_to_pay_at_the_clinic(
    at_confirm, fake_stripe, django_capture_on_commit_callbacks
):
    """The browser's Back button from Stripe's page to the confirm step, then "pay at the
    clinic": the times held for the payment are let go and the course is booked with them."""
    _page, _html, key = confirm_page(at_confirm)
    assert at_confirm.post(CONFIRM, {"key": key, "pay": "deposit"}).status_code == 303
    checkout = DepositCheckout.objects.get()
    with django_capture_on_commit_callbacks(execute=True):
        response = at_confirm.post(CONFIRM, {"key": key, "pay": "clinic"})
    course = Course.objects.get()
    assert response.status_code == 302 and response.url == reverse("booking:done", args=[course.pk])
    held = sorted(h.start for h in deposits.held_times(checkout))
    assert sorted(s.start for s in course.sessions.all()) == held
    checkout.refresh_from_db()
    assert checkout.status == S.RELEASED and not Session.with_holds.held().exists()
    # Stripe's page is closed, and its expiry changes nothing.
    assert fake_stripe.sessions[checkout.stripe_session]["status"] == "expired"
    expired = fake_stripe.events[-1]
    assert deposits.event_handle(expired, now=NOW) == "ignored"
    assert course.sessions.active().count() == 3
