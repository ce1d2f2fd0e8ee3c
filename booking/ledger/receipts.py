"""The receipt emailed for a payment or refund taken at the desk (EMAIL_KINDS "booking.receipt").

Sent once the entry is committed: the desk's views call `receipt_send` after the ledger
service has returned (its own transaction), and the ReceiptSent row is written in a
transaction of its own, so a mail server that fails leaves the payment recorded and no
receipt row: staff see that it was not sent and send it again. The patient's address is
never logged (the entry's id is).
"""

import logging
import smtplib
from datetime import datetime
from email.utils import make_msgid
from urllib.parse import urlsplit

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from clinic.emails import email_message
from clinic.models import ClinicDetails

from ..services.errors import BookingError
from .models import LedgerEntry, ReceiptSent
from .selectors import course_account

logger = logging.getLogger(__name__)
K = LedgerEntry.Kind
RECEIPTED = (K.PAYMENT, K.REFUND)


class ReceiptNotSent(Exception):
    """The mail server did not take the receipt; the entry stands, and it can be sent again."""


def receipt_message(entry: LedgerEntry, *, message_id: str = ""):
    """The receipt for `entry`, ready to send: the clinic, the patient, the course, the item
    and the course's account after it."""
    course = entry.course
    patient = course.patient
    clinic = ClinicDetails.current()
    account = course_account(course)
    subject = (
        gettext("Your receipt from %(clinic)s")
        if entry.kind == K.PAYMENT
        else gettext("Your refund from %(clinic)s")
    ) % {"clinic": clinic.name}
    headers = {"Message-ID": message_id} if message_id else {}
    return email_message(
        "booking.receipt",
        to=[patient.user.email],
        subject=subject,
        headers=headers,
        context={
            "entry": entry,
            "items": [entry],
            "course": course,
            "treatment": course.treatment,
            "patient": patient,
            "account": account,
            "currency": course.currency,
            "clinic": clinic,
        },
    )


def receipt_send(*, entry: LedgerEntry, by, now: datetime | None = None) -> ReceiptSent:
    """Email the receipt for a committed payment or refund to the patient; record it.

    Raises BookingError when there is nothing to send (not a payment or refund, or the
    patient has no address), ReceiptNotSent when the mail server fails."""
    entry = LedgerEntry.objects.select_related(
        "course__patient__user", "course__treatment", "refers_to"
    ).get(pk=entry.pk)
    if entry.kind not in RECEIPTED:
        raise BookingError(gettext("Receipts are for payments and refunds."))
    user = entry.course.patient.user
    if not user.email or not user.is_active:
        raise BookingError(gettext("The patient has no email address to send a receipt to."))
    host = urlsplit(settings.SITE_URL).hostname or "clinic.localhost"
    message_id = make_msgid(idstring=f"receipt.{entry.pk}", domain=host)
    message = receipt_message(entry, message_id=message_id)
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning(
            "receipt not sent", extra={"entry_id": entry.pk, "error": type(error).__name__}
        )
        raise ReceiptNotSent from error
    # Durable: the receipt row is its own transaction, never part of the payment's.
    with transaction.atomic(durable=True):
        receipt = ReceiptSent.objects.create(
            entry=entry,
            to=user.email,
            sent_at=now or timezone.now(),
            sent_by=by,
            message_id=message_id[:200],
        )
    logger.info("receipt sent", extra={"entry_id": entry.pk, "receipt_id": receipt.pk})
    return receipt
