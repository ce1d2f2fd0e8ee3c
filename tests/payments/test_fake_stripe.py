"""The fake answers the real `stripe` library as Stripe does, so the deposit tests can trust it.

No database: these run in a few seconds.
"""

import json
import time
from datetime import UTC, datetime

import pytest
import requests
import stripe
import time_machine
from django.conf import settings
from werkzeug import Response

from tests.payments.signing import WEBHOOK_PATH, sign, signed, signed_post

SUCCESS_URL = "https://clinic.test/deposit/done/?session={CHECKOUT_SESSION_ID}"


@pytest.fixture
def client(fake_stripe):
    """The library as the app should configure it: our base, a short timeout, no retries."""
    return stripe.StripeClient(
        "sk_test_local",
        base_addresses={"api": fake_stripe.origin},
        http_client=stripe.RequestsClient(timeout=1),
        max_network_retries=0,
    ).v1


def session_params(**overrides):
    params = {
        "mode": "payment",
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": "gbp",
                    "unit_amount": 5000,
                    "product_data": {"name": "Deposit: microneedling course"},
                },
            }
        ],
        "success_url": SUCCESS_URL,
        "cancel_url": "https://clinic.test/deposit/back/",
        "client_reference_id": "booking-7",
        "metadata": {"booking": "7"},
        "expires_at": int(time.time()) + 3600,
    }
    return params | overrides


def paid_session(client, fake_stripe):
    session = client.checkout.sessions.create(params=session_params())
    fake_stripe.pay(session.id)
    return client.checkout.sessions.retrieve(session.id)


def test_the_fixture_points_the_app_settings_at_the_fake(fake_stripe):
    assert settings.STRIPE_API_BASE == fake_stripe.origin == settings.STRIPE_CHECKOUT_ORIGIN
    assert fake_stripe.origin.startswith("http://127.0.0.1:")
    assert (settings.STRIPE_SECRET_KEY, settings.STRIPE_WEBHOOK_SECRET) == (
        "sk_test_local",
        "whsec_test_local",
    )
    assert settings.STRIPE_TIMEOUT_SECONDS == 1


def test_a_session_is_created_with_stripes_fields(client, fake_stripe):
    params = session_params()
    session = client.checkout.sessions.create(params=params, options={"idempotency_key": "k"})

    assert session.object == "checkout.session"
    assert session.id.startswith("cs_test_")
    assert session.url == f"{fake_stripe.origin}/c/pay/{session.id}"
    assert session.expires_at == params["expires_at"]
    assert (session.amount_total, session.currency) == (5000, "gbp")
    assert (session.status, session.payment_status, session.payment_intent) == (
        "open",
        "unpaid",
        None,
    )
    assert session.client_reference_id == "booking-7"
    assert session.metadata.to_dict() == {"booking": "7"}
    assert (session.mode, session.livemode, session.success_url) == ("payment", False, SUCCESS_URL)
    method, path, sent, key = fake_stripe.calls[-1]
    assert (method, path, key) == ("POST", "/v1/checkout/sessions", "k")
    assert sent["line_items"][0]["price_data"]["unit_amount"] == "5000"
    assert ("line_items[0][price_data][unit_amount]", "5000") in fake_stripe.calls[-1].raw


def test_the_same_idempotency_key_gives_the_same_session(client, fake_stripe):
    params = session_params()
    first = client.checkout.sessions.create(params=params, options={"idempotency_key": "k"})
    again = client.checkout.sessions.create(params=params, options={"idempotency_key": "k"})
    other = client.checkout.sessions.create(params=params, options={"idempotency_key": "k2"})

    assert again.id == first.id != other.id
    assert len(fake_stripe.sessions) == 2
    with pytest.raises(stripe.IdempotencyError):  # the same key with other parameters
        client.checkout.sessions.create(
            params=session_params(client_reference_id="booking-8"),
            options={"idempotency_key": "k"},
        )


@pytest.mark.parametrize("seconds", [60, 25 * 3600])
def test_expires_at_must_be_30_minutes_to_24_hours_away(client, seconds):
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.checkout.sessions.create(
            params=session_params(expires_at=int(time.time()) + seconds)
        )
    assert error.value.param == "expires_at"
    assert error.value.http_status == 400


def test_a_session_is_retrieved_and_expired_once(client, fake_stripe):
    created = client.checkout.sessions.create(params=session_params())
    assert client.checkout.sessions.retrieve(created.id).status == "open"

    expired = client.checkout.sessions.expire(created.id)

    assert (expired.status, expired.url) == ("expired", None)
    assert fake_stripe.events[-1]["type"] == "checkout.session.expired"
    with pytest.raises(stripe.InvalidRequestError):
        client.checkout.sessions.expire(created.id)
    with pytest.raises(stripe.InvalidRequestError) as error:
        client.checkout.sessions.retrieve("cs_test_nope")
    assert (error.value.http_status, error.value.code) == (404, "resource_missing")


def test_pay_makes_the_completed_event_and_expand_shows_the_intent(client, fake_stripe):
    session = client.checkout.sessions.create(params=session_params())

    event = fake_stripe.pay(session.id)

    assert event["type"] == "checkout.session.completed"
    assert event["object"] == "event" and event["id"].startswith("evt_")
    assert event["api_version"] == stripe.api_version
    paid = event["data"]["object"]
    assert (paid["id"], paid["status"], paid["payment_status"]) == (session.id, "complete", "paid")
    assert paid["payment_intent"].startswith("pi_")
    seen = client.checkout.sessions.retrieve(session.id, params={"expand": ["payment_intent"]})
    assert seen.payment_intent.id == paid["payment_intent"]
    assert seen.payment_intent.amount == 5000
    assert fake_stripe.calls[-1].params["expand"] == ["payment_intent"]


def test_refunds_take_the_rest_and_refuse_more(client, fake_stripe):
    intent = paid_session(client, fake_stripe).payment_intent

    part = client.refunds.create(
        params={"payment_intent": intent, "amount": 2000}, options={"idempotency_key": "r1"}
    )
    same = client.refunds.create(
        params={"payment_intent": intent, "amount": 2000}, options={"idempotency_key": "r1"}
    )
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.refunds.create(params={"payment_intent": intent, "amount": 3001})
    rest = client.refunds.create(params={"payment_intent": intent})
    with pytest.raises(stripe.InvalidRequestError) as again:
        client.refunds.create(params={"payment_intent": intent})

    assert (part.object, part.status, part.amount, part.currency) == (
        "refund",
        "succeeded",
        2000,
        "gbp",
    )
    assert same.id == part.id and part.id.startswith("re_")
    assert too_much.value.param == "amount"
    assert rest.amount == 3000
    assert again.value.code == "charge_already_refunded"
    event = fake_stripe.refund_event(rest.id)
    assert (event["type"], event["data"]["object"]["amount"]) == ("refund.created", 3000)


def test_a_timeout_fails_within_the_client_timeout_but_stripe_did_the_work(client, fake_stripe):
    params = session_params()
    fake_stripe.fail_next("timeout")
    started = time.monotonic()
    with pytest.raises(stripe.APIConnectionError):
        client.checkout.sessions.create(params=params, options={"idempotency_key": "k"})
    assert time.monotonic() - started < 2

    # A retry with the same key and the same parameters (expires_at too: not recomputed) finds
    # the session the lost answer described.
    session = client.checkout.sessions.create(params=params, options={"idempotency_key": "k"})
    assert list(fake_stripe.sessions) == [session.id]


@pytest.mark.parametrize(
    "kind, error",
    [
        ("server_error", stripe.APIError),
        ("card_error", stripe.CardError),
        ("invalid", stripe.InvalidRequestError),
        ("rate_limit", stripe.RateLimitError),
    ],
)
def test_a_failure_applies_to_the_next_calls_only(client, fake_stripe, kind, error):
    fake_stripe.fail_next(kind, times=2)
    for _ in range(2):
        with pytest.raises(error):
            client.checkout.sessions.create(params=session_params())
    assert client.checkout.sessions.create(params=session_params()).status == "open"
    assert len(fake_stripe.calls) == 3 and len(fake_stripe.sessions) == 1


def test_unknown_urls_and_keys_get_stripes_errors(client, fake_stripe):
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.customers.retrieve("cus_1")
    assert unknown.value.http_status == 404
    assert "Unrecognized request URL" in unknown.value.user_message

    wrong_key = stripe.StripeClient("sk_test_other", base_addresses={"api": fake_stripe.origin})
    with pytest.raises(stripe.AuthenticationError):
        wrong_key.v1.checkout.sessions.retrieve("cs_test_1")


def test_sign_is_stripes_signature(fake_stripe):
    event = fake_stripe.event("checkout.session.completed", {"id": "cs_test_1"})
    body, headers = signed(event, fake_stripe.secret)
    header = headers["Stripe-Signature"]

    assert header == stripe.WebhookSignature.generate_signature_header(
        body.decode(), fake_stripe.secret, timestamp=int(header[2:].split(",")[0])
    )
    assert stripe.WebhookSignature.verify_header(body, header, fake_stripe.secret, 300)
    constructed = stripe.Webhook.construct_event(body, header, fake_stripe.secret)
    assert (constructed.id, constructed.type) == (event["id"], "checkout.session.completed")


@pytest.mark.parametrize(
    "change",
    [
        {"tamper": True},
        {"timestamp": int(time.time()) - 600},  # older than the library's 5-minute tolerance
        {"secret": "whsec_other"},
    ],
)
def test_a_changed_stale_or_wrongly_signed_event_is_refused(fake_stripe, change):
    event = fake_stripe.event("checkout.session.completed", {"id": "cs_test_1"})
    secret = change.pop("secret", fake_stripe.secret)
    body, headers = signed(event, secret, **change)

    assert json.loads(body)["id"] == event["id"]  # still a well-formed event
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, headers["Stripe-Signature"], fake_stripe.secret)


def test_sign_accepts_text_and_a_fixed_time():
    assert sign("{}", "whsec_x", 1) == sign(b"{}", "whsec_x", 1)
    assert sign("{}", "whsec_x", 1).startswith("t=1,v1=")


def test_the_checkout_page_pays_delivers_the_event_and_returns(fake_stripe, httpserver, client):
    """What a browser does on Stripe's page, against a stand-in for the app's webhook."""
    received = []

    def webhook(request):
        received.append(
            stripe.Webhook.construct_event(
                request.get_data(), request.headers["Stripe-Signature"], fake_stripe.secret
            )
        )
        return Response("ok")

    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_handler(webhook)
    fake_stripe.webhook_url = httpserver.url_for(WEBHOOK_PATH)
    session = client.checkout.sessions.create(params=session_params())

    page = requests.get(session.url, timeout=5)
    assert page.status_code == 200
    assert "50.00 GBP" in page.text and ">Pay</button>" in page.text
    assert 'href="https://clinic.test/deposit/back/">Back</a>' in page.text

    paid = requests.post(session.url, allow_redirects=False, timeout=5)

    assert paid.status_code == 303
    assert paid.headers["Location"] == SUCCESS_URL.replace("{CHECKOUT_SESSION_ID}", session.id)
    assert [e.type for e in received] == ["checkout.session.completed"]
    assert received[0].data.object.id == session.id
    assert fake_stripe.deliveries[0][1] == 200
    assert client.checkout.sessions.retrieve(session.id).payment_status == "paid"
    assert "no longer active" in requests.get(session.url, timeout=5).text


def test_signed_post_sends_to_a_url(fake_stripe, httpserver):
    httpserver.expect_request(WEBHOOK_PATH, method="POST").respond_with_data("ok")
    event = fake_stripe.event("refund.created", {"id": "re_1"})

    response = signed_post(httpserver.url_for("/"), event, fake_stripe.secret)

    assert response.text == "ok"
    request, _ = httpserver.log[0]
    assert stripe.Webhook.construct_event(
        request.get_data(), request.headers["Stripe-Signature"], fake_stripe.secret
    )


def test_the_fake_keeps_a_frozen_test_clock(client, fake_stripe):
    """The booking tests freeze time (time_machine); the fake's thread reads the same clock."""
    frozen = datetime(2026, 6, 1, 8, 0, tzinfo=UTC)
    with time_machine.travel(frozen, tick=False):
        now = int(frozen.timestamp())
        session = client.checkout.sessions.create(params=session_params(expires_at=now + 1800))
        event = fake_stripe.pay(session.id)
        body, headers = signed(event, fake_stripe.secret)

        assert session.created == now == event["created"]
        assert stripe.Webhook.construct_event(body, headers["Stripe-Signature"], fake_stripe.secret)
