"""The email for each reminder row: text and HTML from templates, .ics where useful."""

from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.urls import reverse
from django.utils.translation import gettext

from clinic.emails import email_message
from clinic.models import ClinicDetails
from clinic.tokens import token_make, token_read

from .calendar_files import sessions_ics
from .models import Reminder, Session
from .reminder_kinds import KINDS
from .welcome import welcome_url

Kind = Reminder.Kind
# One-click unsubscribe (RFC 8058) from the optional emails: an opaque token naming
# the patient and the kind of email (clinic/tokens.py). It works for two years: mail
# programs offer "unsubscribe" on old messages too, and it only turns an optional
# email off, which the patient can turn on again on My appointments.
UNSUBSCRIBE_PURPOSE = "email-preferences"
UNSUBSCRIBE_MAX_AGE = timedelta(days=730)


def unsubscribe_token(patient_id: int, kind: str) -> str:
    return token_make(UNSUBSCRIBE_PURPOSE, {"p": patient_id, "k": kind})


def unsubscribe_payload(token: str) -> dict:
    """{"p": patient id, "k": kind} of a link still in date, else {}."""
    return token_read(UNSUBSCRIBE_PURPOSE, token, max_age=UNSUBSCRIBE_MAX_AGE) or {}


def _message_id(reminder: Reminder) -> str:
    """Derived from the idempotency key: a repeated send is recognisably the same mail."""
    host = urlsplit(settings.SITE_URL).hostname or "clinic.localhost"
    return f"<{reminder.idempotency_key.replace('/', '.')}@{host}>"


def _context(reminder: Reminder, clinic: ClinicDetails) -> dict:
    session = reminder.session
    course = session.course
    sessions = []
    if KINDS[reminder.kind].lists_sessions:  # the others speak of one session only
        sessions = list(course.sessions.select_related("practitioner").order_by("number"))
    for each in sessions:
        each.course = course  # already loaded, with its treatment
    cancelled_together = [
        s
        for s in sessions
        if s.status == Session.Status.CANCELLED and s.cancelled_at == session.cancelled_at
    ]
    return {
        "reminder": reminder,
        "session": session,
        "course": course,
        "treatment": course.treatment,
        "patient": session.patient,
        "sessions": [s for s in sessions if s.is_active],
        "cancelled_sessions": cancelled_together or [session],
        # Beside a calendar file that adds sessions, links that add them to web calendars.
        "calendar_links": KINDS[reminder.kind].calendar in ("course", "session"),
        "clinic": clinic,
        "site_url": settings.SITE_URL,
        # Booked by phone: the patient has no password yet, so a link to choose one.
        "set_password_url": welcome_url(session.patient.user)
        if reminder.kind == Kind.CONFIRMATION and not session.patient.user.has_usable_password()
        else "",
        # The clinic's notice names the patient by first name only (no health data).
        "first_name": (session.patient.full_name.split() or ["a patient"])[0],
        "admin_url": reverse("admin:booking_course_change", args=[course.pk]),
    }


def build_message(
    reminder: Reminder, *, clinic: ClinicDetails | None = None
) -> EmailMultiAlternatives:
    clinic = clinic or ClinicDetails.current()
    headers = {"Message-ID": _message_id(reminder), "Idempotency-Key": reminder.idempotency_key}
    if reminder.kind == Kind.OFFER:  # about a hold, which has no course
        from .waitlist.sending import offer_message

        return offer_message(reminder, clinic=clinic, headers=headers)
    context = _context(reminder, clinic)
    session, course = reminder.session, context["course"]
    rule = KINDS[reminder.kind]
    to = [context["clinic"].email] if rule.to_clinic else [session.patient.user.email]
    if rule.opt_out:
        url = settings.SITE_URL + reverse(
            "booking:email_unsubscribe", args=[unsubscribe_token(session.patient_id, reminder.kind)]
        )
        context["unsubscribe_url"] = url
        # RFC 8058 one-click: mail clients POST "List-Unsubscribe=One-Click" here.
        headers["List-Unsubscribe"] = f"<{url}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    subject = rule.subject
    if reminder.kind == Kind.CLINIC_NOTICE and not session.patient.user.is_active:
        subject = gettext("A patient deleted their account: sessions cancelled")
    local = session.start.astimezone(_zone())
    subject = subject % {
        "treatment": course.treatment.name.lower(),
        "when": gettext("%(day)s at %(time)s")
        % {"day": f"{local:%A %-d %B}", "time": f"{local:%H:%M}"},
        "first_name": context["first_name"],
    }
    message = email_message(
        f"booking.{reminder.kind}", to=to, subject=subject, context=context, headers=headers
    )
    if rule.calendar == "course":
        message.attach(
            "course.ics", sessions_ics(context["sessions"], clinic=clinic), "text/calendar"
        )
    elif rule.calendar == "session":
        message.attach("session.ics", sessions_ics([session], clinic=clinic), "text/calendar")
    elif rule.calendar == "cancel":
        message.attach(
            "cancelled.ics",
            sessions_ics(context["cancelled_sessions"], cancel=True, clinic=clinic),
            "text/calendar; method=CANCEL",
        )
    return message


def _zone():
    from .selectors import clinic_zone

    return clinic_zone()
