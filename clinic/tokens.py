"""Tokens for the links in emails: signed, opaque, for one purpose, and with an age limit.

Django's `signing` proves a value was not changed, but anyone can read it
(base64 JSON): a link would show the patient's id, or the newsletter's
permanent unsubscribe token. These are Fernet tokens (the `cryptography`
package: AES-128-CBC with an HMAC-SHA256, and the time it was made): nobody
without the key can read or alter one, and `token_read` refuses one older
than its `max_age`. Each purpose has a key of its own, derived from
SECRET_KEY (and SECRET_KEY_FALLBACKS, so a rotated key leaves links working
until the fallback is dropped): a token made for one purpose does not open
another. https://cryptography.io/en/latest/fernet/
"""

import base64
import json
from datetime import timedelta

from cryptography.fernet import Fernet, InvalidToken, MultiFernet
from django.conf import settings
from django.utils.crypto import salted_hmac

MAX_TOKEN_LENGTH = 512  # a real one is under 200 characters; anything longer is refused unread


def _fernet(purpose: str) -> MultiFernet:
    secrets = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return MultiFernet(
        [
            Fernet(
                base64.urlsafe_b64encode(
                    salted_hmac(
                        "clinic.tokens", purpose, secret=secret, algorithm="sha256"
                    ).digest()
                )
            )
            for secret in secrets
        ]
    )


def token_make(purpose: str, payload: dict) -> str:
    """An opaque, URL-safe token holding `payload` (plain JSON types) for `purpose`."""
    data = json.dumps(payload, separators=(",", ":")).encode()
    return _fernet(purpose).encrypt(data).decode().rstrip("=")


def token_read(purpose: str, token: str, *, max_age: timedelta) -> dict | None:
    """The payload of a token made for `purpose` no longer than `max_age` ago, else None."""
    if not token or len(token) > MAX_TOKEN_LENGTH or not token.isascii():
        return None
    padded = token + "=" * (-len(token) % 4)
    try:
        data = _fernet(purpose).decrypt(padded.encode(), ttl=int(max_age.total_seconds()))
        payload = json.loads(data)
    except (InvalidToken, ValueError):
        return None
    return payload if isinstance(payload, dict) else None
