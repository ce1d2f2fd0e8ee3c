"""Emails the clinic's inbox gets about bookings (sent after the booking commits).

A failing mail server never undoes a booking: the failure is logged (by id,
with no patient details) and the booking stands.
"""

import logging
import smtplib

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.db import transaction
from django.template.loader import render_to_string

from clinic.models import ClinicDetails

from .models import Course

logger = logging.getLogger(__name__)


def _send_clinic_notice(course_id: int) -> None:
    course = Course.objects.select_related("patient__user", "treatment", "practitioner").get(
        pk=course_id
    )
    clinic = ClinicDetails.current()
    context = {
        "course": course,
        "sessions": list(course.sessions.order_by("number")),
        "clinic": clinic,
        "site_url": settings.SITE_URL,
        "answers": course.suitability_answers.get("questions", []),
    }
    kind = "consultation" if course.treatment.is_consultation else "course"
    message = EmailMultiAlternatives(
        subject=f"New {kind} booked: {course.treatment.name}",
        body=render_to_string("booking/email/clinic_notice.txt", context),
        to=[clinic.email],
    )
    try:
        message.send()
    except (smtplib.SMTPException, OSError) as exc:
        logger.warning(
            "clinic notice not sent", extra={"course_id": course_id, "error": type(exc).__name__}
        )


def clinic_notice_course_booked(course: Course) -> None:
    """Tell the clinic's inbox once the booking has committed."""
    transaction.on_commit(lambda: _send_clinic_notice(course.pk))
