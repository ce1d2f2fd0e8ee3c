"""The "choose a password" link in the confirmation email of a patient booked by phone.

Reception makes the account with no password, so the patient cannot see
their sessions online. The confirmation email carries this link: an opaque
token (clinic/tokens.py) naming the account and a fingerprint of its
password and address. It works for 30 days, and once: setting a password
changes the fingerprint. Opening it proves the patient reads that address,
so it is marked verified, and the patient is signed in.
"""

import hmac
from datetime import timedelta

from allauth.account.models import EmailAddress
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.urls import reverse
from django.utils.crypto import salted_hmac

from clinic.tokens import token_make, token_read

PURPOSE = "welcome"
MAX_AGE = timedelta(days=30)


def _fingerprint(user) -> str:
    return salted_hmac("booking.welcome", f"{user.password}\n{user.email}").hexdigest()[:24]


def welcome_url(user) -> str:
    token = token_make(PURPOSE, {"u": user.pk, "f": _fingerprint(user)})
    return settings.SITE_URL + reverse("account_welcome", args=[token])


def welcome_user(token: str):
    """The account a link still works for: no password yet, a patient's, the same address."""
    payload = token_read(PURPOSE, token, max_age=MAX_AGE) or {}
    user_id = payload.get("u")
    if not isinstance(user_id, int):
        return None
    user = (
        get_user_model()
        .objects.filter(pk=user_id, is_active=True, is_staff=False, is_superuser=False)
        .first()
    )
    if user is None or user.has_usable_password():
        return None
    if not hmac.compare_digest(str(payload.get("f", "")), _fingerprint(user)):
        return None
    return user


@transaction.atomic
def welcome_password_set(*, user, password: str) -> None:
    """Set the first password and verify the address the link was sent to."""
    user.set_password(password)
    user.save(update_fields=["password"])
    EmailAddress.objects.filter(user=user, primary=True).exclude(email__iexact=user.email).update(
        primary=False
    )
    EmailAddress.objects.update_or_create(
        user=user, email=user.email, defaults={"verified": True, "primary": True}
    )
