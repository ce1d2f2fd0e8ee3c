"""The email to a patient whose deposit came after their times were released (EMAIL_KINDS
"booking.deposit_refunded"): the payment is refunded in full, and here are the nearest free
times. Sent once the refund is recorded; a mail server that fails is logged (by id) and the
patient still sees the same on the page Stripe sends them back to."""

import logging
import smtplib
from datetime import datetime

from django.utils.translation import gettext

from clinic.emails import email_message
from clinic.models import ClinicDetails

from .models import DepositCheckout

logger = logging.getLogger(__name__)


def late_payment_message(checkout: DepositCheckout, *, now: datetime):
    from .services import nearest_times

    clinic = ClinicDetails.current()
    return email_message(
        "booking.deposit_refunded",
        to=[checkout.patient.user.email],
        subject=gettext("Your deposit has been refunded"),
        context={
            "checkout": checkout,
            "patient": checkout.patient,
            "treatment": checkout.treatment,
            "times": nearest_times(checkout, now)[:5],
            "clinic": clinic,
        },
    )


def late_payment_email(*, checkout_id: int, now: datetime) -> bool:
    checkout = DepositCheckout.objects.select_related("patient__user", "treatment").get(
        pk=checkout_id
    )
    if not checkout.patient.user.email or not checkout.patient.user.is_active:
        return False
    try:
        late_payment_message(checkout, now=now).send()
    except (smtplib.SMTPException, OSError) as error:
        logger.warning(
            "deposit refund email not sent",
            extra={"checkout_id": checkout.pk, "error": type(error).__name__},
        )
        return False
    logger.info("deposit refund email sent", extra={"checkout_id": checkout.pk})
    return True
