"""Every kind of email the app sends, in one list, and the one way to build one.

A kind names its templates: `<template>.txt` always, rendered by the "text"
template engine (no HTML escaping, so a name reads "O'Brien", not
"O&#x27;Brien"), and `<template>.html` when it has an HTML part. Every sender
builds its message with `email_message(kind, ...)`: the booking emails,
the newsletter, the journey's sign-in code and django-allauth's account
emails (clinic/account_adapter.py). Each message gets the clinic's details
and `site_url` (SITE_URL, the base of every link) in its context.

The browser test walks this list (tests/browser/test_account_walk.py): for
every kind it sends one as the app does and follows every link in it, and a
test fails on an email template that belongs to no kind. A new kind of email
joins this list, or it cannot be sent.
"""

import logging
from dataclasses import dataclass

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

logger = logging.getLogger(__name__)
KIND_HEADER = "X-Clinic-Email"


@dataclass(frozen=True)
class EmailKind:
    name: str
    template: str  # "<template>.txt", and "<template>.html" when `html`
    to: str  # who gets it: "patient", "clinic", "subscriber" or "account holder"
    html: bool = True


def _kinds(*kinds: EmailKind) -> dict[str, EmailKind]:
    return {kind.name: kind for kind in kinds}


def _booking(name: str, to: str = "patient") -> EmailKind:
    return EmailKind(f"booking.{name}", f"booking/email/{name}", to)


def _account(name: str, template: str = "") -> EmailKind:
    """django-allauth's (templates/account/email/ and mfa/email/), in text only."""
    return EmailKind(
        f"account.{name}", template or f"account/email/{name}_message", "account holder", False
    )


EMAIL_KINDS: dict[str, EmailKind] = _kinds(
    # Reminder rows (booking/reminders.py): one kind per Reminder.Kind.
    _booking("confirmation"),
    _booking("reminder"),
    _booking("aftercare"),
    _booking("check_in"),
    _booking("next_window"),
    _booking("changed"),
    _booking("cancelled"),
    _booking("clinic_notice", to="clinic"),
    _booking("offer"),  # a waitlist offer (booking/waitlist/sending.py)
    _booking("receipt"),  # a payment or refund taken at the desk (booking/ledger/receipts.py)
    # A deposit paid after its times were released: refunded (booking/deposits/emails.py).
    _booking("deposit_refunded"),
    # The booking journey's check of the patient's address (booking/email_check.py).
    EmailKind("booking.email_code", "booking/email/email_code", "account holder"),
    EmailKind("booking.email_code_refused", "booking/email/email_code_refused", "account holder"),
    # The newsletter (education/services.py).
    EmailKind("newsletter.confirm", "education/email/newsletter_confirm", "subscriber"),
    EmailKind("newsletter.digest", "education/email/newsletter_digest", "subscriber"),
    # Accounts (django-allauth, through clinic/account_adapter.py).
    _account("email_confirmation_signup"),
    _account("email_confirmation"),
    _account("account_already_exists"),
    _account("password_reset_key"),
    _account("unknown_account"),
    _account("password_changed"),
    _account("password_set"),
    _account("password_reset"),
    _account("email_changed"),
    _account("email_deleted"),
    _account("totp_activated", "mfa/email/totp_activated_message"),
    _account("totp_deactivated", "mfa/email/totp_deactivated_message"),
    _account("recovery_codes_generated", "mfa/email/recovery_codes_generated_message"),
)


def email_kind_for_template(template: str) -> EmailKind | None:
    """The kind whose templates are `template` (django-allauth names its emails that way)."""
    return next((kind for kind in EMAIL_KINDS.values() if kind.template == template), None)


def _context(context: dict) -> dict:
    from clinic.models import ClinicDetails

    return {"clinic": ClinicDetails.current(), "site_url": settings.SITE_URL, **context}


def render_text(template: str, context: dict) -> str:
    """A plain-text template: nothing is HTML-escaped (the "text" engine)."""
    return render_to_string(template, _context(context), using="text")


def email_message(
    kind: str,
    *,
    to: list[str],
    subject: str,
    context: dict,
    headers: dict | None = None,
    from_email: str | None = None,
) -> EmailMultiAlternatives:
    """The message of `kind` (a name in EMAIL_KINDS), ready to send or to attach files to."""
    found = EMAIL_KINDS[kind]
    context = _context(context)
    message = EmailMultiAlternatives(
        subject=subject,
        body=render_to_string(f"{found.template}.txt", context, using="text"),
        from_email=from_email,
        to=to,
        # Which kind it is, for mail filters, support and the tests' email walk.
        headers={KIND_HEADER: kind, **(headers or {})},
    )
    if found.html:
        message.attach_alternative(render_to_string(f"{found.template}.html", context), "text/html")
    return message
