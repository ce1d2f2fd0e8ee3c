"""The only module that talks to Stripe, through Stripe's own library.

Every call has a timeout (STRIPE_TIMEOUT_SECONDS) and an idempotency key, so a
call repeated after a timeout cannot take or give money twice; Stripe's errors
come back as `ProviderError`, whose message is safe to log (never personal data,
never a card detail: the app never sees one).
"""

import logging
from datetime import datetime

import stripe
from django.conf import settings

logger = logging.getLogger(__name__)


class ProviderError(Exception):
    """Stripe did not answer, or refused: nothing was taken or given."""


def _client() -> stripe.StripeClient:
    return stripe.StripeClient(
        settings.STRIPE_SECRET_KEY,
        base_addresses={"api": settings.STRIPE_API_BASE},
        http_client=stripe.RequestsClient(timeout=settings.STRIPE_TIMEOUT_SECONDS),
        max_network_retries=1,  # one retry, with the same idempotency key
    )


def _call(what: str, call):
    try:
        return call()
    except stripe.StripeError as exc:
        logger.warning(
            "stripe call failed",
            extra={"call": what, "error": type(exc).__name__, "code": exc.code or ""},
        )
        raise ProviderError(type(exc).__name__) from exc


def checkout_create(
    *,
    key: str,
    reference: str,
    amount: int,
    currency: str,
    description: str,
    expires_at: datetime,
    success_url: str,
    cancel_url: str,
):
    """A Checkout Session for one payment of `amount` (minor units). Only our reference
    travels to Stripe (no name, no email, no health data): Stripe's page asks for the rest."""
    params = {
        "mode": "payment",
        # Cards only (wallets such as Apple Pay are cards too): paid at once, within the
        # hold. A delayed method (a bank debit) would complete days after the times went.
        "payment_method_types": ["card"],
        "client_reference_id": reference,
        "metadata": {"checkout": reference},
        "payment_intent_data": {"metadata": {"checkout": reference}},
        "line_items": [
            {
                "quantity": 1,
                "price_data": {
                    "currency": currency.lower(),
                    "unit_amount": amount,
                    "product_data": {"name": description},
                },
            }
        ],
        "expires_at": int(expires_at.timestamp()),
        "success_url": success_url,
        "cancel_url": cancel_url,
    }
    return _call(
        "checkout.create",
        lambda: _client().v1.checkout.sessions.create(
            params=params, options={"idempotency_key": key}
        ),
    )


def checkout_expire(session_id: str):
    """Close a Checkout the patient walked away from, so it can no longer be paid."""
    return _call("checkout.expire", lambda: _client().v1.checkout.sessions.expire(session_id))


def refund_create(*, payment_intent: str, amount: int, key: str):
    """Give back `amount` (minor units) of a payment."""
    return _call(
        "refund.create",
        lambda: _client().v1.refunds.create(
            params={"payment_intent": payment_intent, "amount": amount},
            options={"idempotency_key": key},
        ),
    )


def event_from(payload: bytes, signature: str) -> dict:
    """The event in a webhook's body, as plain data, when its Stripe-Signature verifies with
    our secret; else stripe.SignatureVerificationError (ValueError: a body not JSON)."""
    event = stripe.Webhook.construct_event(payload, signature, settings.STRIPE_WEBHOOK_SECRET)
    return event.to_dict()
