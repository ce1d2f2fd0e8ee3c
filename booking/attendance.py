"""Attendance: staff record that a patient arrived, came to a session, or did not.

A session goes booked -> arrived -> attended, or booked -> attended, or
booked -> no-show; "arrived" can be taken back (-> booked) when it was a slip.
When a session can be marked (decided here, in one place):
- arrived on the session's own day only: the patient is in the waiting room;
- attended from the session's day on, from booked or arrived: reception marks a
  patient in when they arrive, which is often a few minutes before the start time;
- no-show only once the start has passed, and never for a patient who arrived.
A future day's session cannot be marked any way: that is a slip of the mouse.
A course booked with consent to sign on paper: its first session is marked
attended only once the signed form is recorded (`course_consent_signed`); the
patient may arrive before signing it.
A cancelled session never happened, and an attended or no-show one is already
on the record (its history shows who marked it). An arrived session is
happening: it is neither moved nor cancelled (rulebook.change_breach), and its
reminders go as a booked one's do.

A no-show gets no aftercare or check-in email: its rows still waiting are
cancelled in the same transaction as the mark (the sender also skips them at
send time, booking/reminders.py `_skip`, so a row being sent at this
moment is safe either way).
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext

from . import rulebook
from .ledger import services as ledger
from .models import Reminder, Session
from .reminder_kinds import AFTER_THE_SESSION
from .reminders import reminders_cancel
from .selectors import clinic_zone
from .services import BookingError
from .waitlist import hooks as waitlist_hooks

logger = logging.getLogger(__name__)


def reminders_stop(*, session: Session, kinds: Iterable[str], now: datetime, reason: str) -> int:
    """Cancel the session's rows of these kinds that are still waiting. Returns how many."""
    return reminders_cancel(
        Reminder.objects.open().filter(session=session, kind__in=list(kinds)),
        now=now,
        reason=reason,
    )


def _locked(session: Session) -> Session:
    # of=self: lock the session row only, not the course and patient it is read with.
    return (
        Session.objects.select_for_update(of=("self",))
        .select_related("course", "patient")
        .get(pk=session.pk)
    )


ARRIVED, ATTENDED, NO_SHOW, NOT_ARRIVED = "arrived", "attended", "no_show", "not_arrived"
# The statuses each mark is made from.
MARKED_FROM = {
    ARRIVED: (Session.Status.BOOKED,),
    ATTENDED: (Session.Status.BOOKED, Session.Status.ARRIVED),
    NO_SHOW: (Session.Status.BOOKED,),
    NOT_ARRIVED: (Session.Status.ARRIVED,),
}


def attendance_refusal(
    session: Session, now: datetime, *, no_show: bool = False, mark: str = ""
) -> str:
    """Why the session cannot be marked now ("" when it can); the rules in the module docstring.

    `mark` is one of ARRIVED, ATTENDED, NO_SHOW, NOT_ARRIVED (`no_show` is NO_SHOW's
    older spelling; neither means ATTENDED)."""
    mark = mark or (NO_SHOW if no_show else ATTENDED)
    if session.status not in MARKED_FROM[mark]:
        if mark == NOT_ARRIVED:
            return gettext("Only a session marked arrived can be taken back to booked.")
        if mark == NO_SHOW and session.status == Session.Status.ARRIVED:
            return gettext("The patient has arrived, so this session is not a no-show.")
        return gettext("Only a booked session can be marked; this one is %(status)s.") % {
            "status": session.get_status_display()
        }
    zone = clinic_zone()
    day, today = session.start.astimezone(zone).date(), now.astimezone(zone).date()
    if mark in (ARRIVED, NOT_ARRIVED):
        if day != today:
            return gettext("A patient can be marked arrived only on the day of the session.")
        return ""
    if (
        mark == ATTENDED
        and session.course.consent_to_sign
        and not session.course.sessions.active().filter(number__lt=session.number).exists()
    ):
        return gettext(
            "The patient has not signed the consent form yet. Record the signed form first "
            "(Record the signed consent form, below)."
        )
    if mark == NO_SHOW and session.start > now:
        return gettext("A session can be marked as a no-show only once its start has passed.")
    if day > today:
        return gettext("A session can be marked attended from its day on, not before.")
    return ""


def _check_markable(session: Session, now: datetime, mark: str) -> None:
    if refusal := attendance_refusal(session, now, mark=mark):
        raise BookingError(refusal)


def _save(session: Session, status: str, by, reason: str) -> None:
    session.status = status
    # The history row names who marked it even outside a request (the admin's
    # request user arrives through simple_history's middleware as well).
    if by is not None:
        session._history_user = by
    session._change_reason = reason
    session.save(update_fields=["status", "updated_at"])


# What each mark makes of the session, and the reason its history row gives.
MARKS = {
    ARRIVED: (Session.Status.ARRIVED, "Marked arrived"),
    NOT_ARRIVED: (Session.Status.BOOKED, "Arrival taken back"),
    ATTENDED: (Session.Status.ATTENDED, "Marked attended"),
    NO_SHOW: (Session.Status.NO_SHOW, "Marked no-show"),
}


def _mark(session: Session, mark: str, by, now: datetime) -> Session:
    """Lock, check and save one mark (inside the caller's transaction), and record it in the
    course ledger: attended, the session is used; a no-show, the cancellation policy's
    outcome, and the session taken off the price unless the policy counts it as used."""
    session = _locked(session)
    _check_markable(session, now, mark)
    status, reason = MARKS[mark]
    _save(session, status, by, reason)
    if mark == ATTENDED:
        ledger.session_used(session=session, now=now, by=by)
    elif mark == NO_SHOW:
        ledger.session_not_given(session=session, event=rulebook.NO_SHOW, now=now, by=by)
    if mark != NOT_ARRIVED:  # its day has come: no earlier time is waited for
        waitlist_hooks.entries_end([session], reason=f"{reason}.", now=now)
    logger.info("session marked", extra={"session_id": session.pk, "mark": mark})
    return session


@transaction.atomic
def session_mark_arrived(*, session: Session, by, now: datetime | None = None) -> Session:
    """The patient is in the waiting room."""
    return _mark(session, ARRIVED, by, now or timezone.now())


@transaction.atomic
def session_mark_not_arrived(*, session: Session, by, now: datetime | None = None) -> Session:
    """Take back an "arrived" marked by mistake: the session is booked again."""
    return _mark(session, NOT_ARRIVED, by, now or timezone.now())


@transaction.atomic
def session_mark_attended(*, session: Session, by, now: datetime | None = None) -> Session:
    return _mark(session, ATTENDED, by, now or timezone.now())


@transaction.atomic
def session_mark_no_show(*, session: Session, by, now: datetime | None = None) -> Session:
    """Mark a no-show and stop its aftercare and check-in emails that have not gone yet."""
    now = now or timezone.now()
    session = _mark(session, NO_SHOW, by, now)
    stopped = reminders_stop(
        session=session, kinds=AFTER_THE_SESSION, now=now, reason="The patient did not come."
    )
    logger.info("no-show emails stopped", extra={"session_id": session.pk, "stopped": stopped})
    return session


@transaction.atomic
def course_consent_signed(*, course, by, now: datetime | None = None):
    """The patient signed the consent form at their first visit: record it, and who saw it."""
    now = now or timezone.now()
    course = type(course).objects.select_for_update().get(pk=course.pk)
    if not course.consent_to_sign:
        raise BookingError(gettext("This course has no consent form waiting to be signed."))
    course.consent_given_at, course.consent_recorded_by = now, by
    course._change_reason = "Consent form signed"
    course.save(update_fields=["consent_given_at", "consent_recorded_by"])
    logger.info("consent signed", extra={"course_id": course.pk})
    return course
