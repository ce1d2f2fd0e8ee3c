"""The booking journey checks the patient's email address with a code, on its own page.

Nobody leaves the journey to click a link. The patient types their address;
we email a 6-digit code to it; they type the code on the same page. Then a
new address becomes a verified account and a known one signs in. The page
reads the same whether or not the address had an account, and sending a code
counts against the sign-up form's limit (SIGN_UP_RATE), so the journey
neither tells who has an account nor makes accounts faster than sign-up.

An account that must not be opened by an emailed code alone (staff, two-
factor sign-in, closed) gets an email saying how to sign in instead, and no
code works for it. The code is kept only as an HMAC in the patient's own
session, lives 15 minutes, and allows 5 tries.
"""

import hmac
import logging
import secrets
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext

from clinic.emails import email_message

from .services import account_create

logger = logging.getLogger(__name__)
SESSION_KEY = "booking_email_check"
CODE_LIFETIME = timedelta(minutes=15)
CODE_TRIES = 5


@dataclass
class EmailCheck:
    """A code on its way: kept in the session, never the code itself."""

    email: str
    digest: str  # "" when no code was sent (an account that cannot sign in by code)
    expires_at: float
    tries: int = 0

    @classmethod
    def load(cls, request) -> "EmailCheck | None":
        data = request.session.get(SESSION_KEY)
        try:
            return cls(**data) if isinstance(data, dict) else None
        except TypeError:
            return None

    def save(self, request) -> None:
        request.session[SESSION_KEY] = asdict(self)

    @staticmethod
    def clear(request) -> None:
        request.session.pop(SESSION_KEY, None)


def _digest(email: str, code: str) -> str:
    return salted_hmac("booking.email-code", f"{email}\n{code}", algorithm="sha256").hexdigest()


def signs_in_by_code(user) -> bool:
    """An emailed code alone may open this account: an active patient's, without two-factor."""
    return (
        user.is_active
        and not user.is_staff
        and not user.is_superuser
        and not Authenticator.objects.filter(user=user).exists()
    )


def email_code_send(*, email: str, now: datetime) -> EmailCheck:
    """Email a sign-in code to `email` (or, to an account a code must not open, how to sign in)."""
    email = email.strip().lower()
    user = get_user_model().objects.filter(email__iexact=email).first()
    if user is not None and not signs_in_by_code(user):
        kind, subject, code = (
            "booking.email_code_refused",
            gettext("Please sign in to book"),
            None,
        )
    else:
        code = f"{secrets.randbelow(10**6):06d}"
        kind, subject = "booking.email_code", gettext("Your code is %(code)s") % {"code": code}
    email_message(kind, to=[email], subject=subject, context={"code": code, "email": email}).send()
    logger.info("booking email code sent", extra={"user_id": user.pk if user else None})
    return EmailCheck(
        email=email,
        digest=_digest(email, code) if code else "",
        expires_at=(now + CODE_LIFETIME).timestamp(),
    )


class CodeRefused(Exception):
    def __init__(self, message: str, *, start_again: bool = False):
        super().__init__(message)
        self.message, self.start_again = message, start_again


def email_code_check(check: EmailCheck, *, code: str, now: datetime) -> None:
    """Raise CodeRefused unless `code` is the one emailed for `check` (counts the try)."""
    if now.timestamp() > check.expires_at:
        raise CodeRefused(
            gettext("That code has expired. Ask for a new one below."), start_again=True
        )
    if check.tries >= CODE_TRIES:
        raise CodeRefused(
            gettext("That was too many tries. Ask for a new code below."), start_again=True
        )
    check.tries += 1
    typed = "".join(c for c in code if c.isdigit())[:6]
    if not check.digest or not hmac.compare_digest(check.digest, _digest(check.email, typed)):
        left = CODE_TRIES - check.tries
        if left <= 0:
            raise CodeRefused(
                gettext("That code is not right. Ask for a new code below."), start_again=True
            )
        raise CodeRefused(
            # Not ngettext: "1 tries left" is the English the pages (and tests) have always shown.
            gettext("That code is not right. Check the email and try again (%(left)d tries left).")
            % {"left": left}
        )


@transaction.atomic
def email_code_account(*, email: str):
    """The account whose owner has just typed the code emailed to `email`.

    A new address becomes an account with no password, its address verified.
    A known account's address is marked verified: its owner has proved it.
    If that address was not verified before, whoever set the account's
    password never proved the address was theirs (someone may have signed up
    with another person's address), so that password stops working and the
    owner chooses one now. The address comes off any other account that
    listed it unverified.
    """
    users = get_user_model().objects.select_for_update()
    user = users.filter(email__iexact=email).first()
    EmailAddress.objects.filter(email__iexact=email, verified=False).exclude(user=user).delete()
    if user is None:
        user = account_create(email=email, verified=True)
        logger.info("account made by email code", extra={"user_id": user.pk})
        return user
    if not signs_in_by_code(user):  # no code was sent to it: never reached, kept as a guard
        raise CodeRefused(gettext("Please sign in with your password."), start_again=True)
    address = EmailAddress.objects.filter(user=user, email__iexact=email).first()
    if address is None or not address.verified:
        if user.has_usable_password():
            user.set_unusable_password()
            user.save(update_fields=["password"])
        EmailAddress.objects.filter(user=user, primary=True).update(primary=False)
        EmailAddress.objects.update_or_create(
            user=user, email=user.email, defaults={"verified": True, "primary": True}
        )
    return user
