"""Webhook bodies signed the way Stripe signs them, so the app's verification is really exercised.

Stripe sends `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`, keyed
with the endpoint's whole secret ("whsec_..."). The library's own check
(stripe.WebhookSignature.verify_header) accepts what sign() makes; tests/payments/
test_fake_stripe.py holds that.
"""

import hashlib
import hmac
import json
import time
from urllib.parse import urlsplit

import requests

WEBHOOK_PATH = "/payments/stripe/webhook/"  # the app's endpoint (a fixed name, see conftest.py)


def sign(payload: bytes | str, secret: str, timestamp: int | None = None) -> str:
    """The Stripe-Signature header value for `payload`, signed at `timestamp` (now if None)."""
    if isinstance(payload, bytes):
        payload = payload.decode("utf-8")
    t = int(time.time()) if timestamp is None else int(timestamp)
    mac = hmac.new(secret.encode("utf-8"), f"{t}.{payload}".encode(), hashlib.sha256)
    return f"t={t},v1={mac.hexdigest()}"


def signed(
    event: dict, secret: str, *, tamper: bool = False, timestamp: int | None = None
) -> tuple[bytes, dict[str, str]]:
    """(body, headers) for posting `event` with either Django's test client or requests.

    tamper=True signs the body, then sends one that differs from it yet is still valid JSON
    (an extra key), as an attacker replaying a changed event would: the app must check the
    signature, not merely parse the body.
    """
    body = json.dumps(event, indent=2).encode()  # Stripe's bodies are pretty-printed too
    headers = {
        "Stripe-Signature": sign(body, secret, timestamp),
        "Content-Type": "application/json",
    }
    if tamper:
        body = json.dumps({**event, "tampered": True}, indent=2).encode()
    return body, headers


def signed_post(
    client_or_url,
    event: dict,
    secret: str,
    *,
    tamper: bool = False,
    timestamp: int | None = None,
    path: str = WEBHOOK_PATH,
):
    """POST `event`, signed, to the app's webhook; the response (Django's or requests').

    `client_or_url` is Django's test client (posts to `path`) or a URL: an origin such as
    live_server.url (`path` is added) or a full webhook URL.
    """
    body, headers = signed(event, secret, tamper=tamper, timestamp=timestamp)
    if isinstance(client_or_url, str):
        url = client_or_url
        if urlsplit(url).path in ("", "/"):
            url = url.rstrip("/") + path
        return requests.post(url, data=body, headers=headers, timeout=10)
    return client_or_url.post(path, body, content_type="application/json", headers=headers)
