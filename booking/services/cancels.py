"""Cancelling a session or a whole course."""

import logging
from collections.abc import Sequence
from datetime import datetime

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext
from simple_history.utils import bulk_update_with_history

from .. import reminders
from ..availability import Slot
from ..ledger import services as ledger
from ..models import BookingRules, Course, FreedTime, Session
from ..waitlist import hooks as waitlist_hooks
from .checks import (
    change_refusal,
    lock,
    replan_or_refuse,
    sessions_shift,
    slot_for,
    slots_free,
    staff_rules,
)
from .errors import BookingError

logger = logging.getLogger(__name__)


def _mark_cancelled(sessions: Sequence[Session], now: datetime) -> None:
    """Cancelled, with a rising SEQUENCE so calendar apps drop them (and their history rows)."""
    for session in sessions:
        session.status, session.cancelled_at = Session.Status.CANCELLED, now
        session.sequence += 1
        session.updated_at = now  # bulk_update does not apply auto_now
    bulk_update_with_history(
        sessions, Session, ["status", "cancelled_at", "sequence", "updated_at"]
    )


def _waitlist_told(cancelled: Sequence[Session], now: datetime) -> None:
    """Their time is free for the waitlist, and nobody waits for an earlier time of them."""
    waitlist_hooks.sessions_freed(cancelled, cause=FreedTime.Cause.CANCELLED, now=now)
    waitlist_hooks.entries_end(cancelled, reason="The session was cancelled.", now=now)


def course_status_after_cancel(course: Course) -> None:
    """After the rest of a course is cancelled: completed if any session stays (attended, a
    no-show, or past and not yet marked: one attended later today counts), else cancelled."""
    kept = course.sessions.active().exists()
    course.status = Course.Status.COMPLETED if kept else Course.Status.CANCELLED
    course.save(update_fields=["status"])


@transaction.atomic
def session_cancel(
    *,
    session: Session,
    now: datetime | None = None,
    by_staff: bool = False,
    notify: bool = True,
    also: dict[int, Slot] | None = None,
    with_later: bool = False,
    override_reason: str = "",
    by=None,
    waive_reason: str = "",
) -> Session:
    """Cancel one session (and, `with_later`, the active ones after it).

    The sessions left after it must still keep their windows (from the one
    before the cancelled session): NeedsReplan proposes new times for those
    that would not, and asking again with them in `also` cancels and moves
    together.

    Each cancelled session is taken off the course's price in the ledger; inside the
    change notice (staff only) the cancellation policy's outcome comes first, unless
    staff waive it with `waive_reason`."""
    now = now or timezone.now()
    rules = BookingRules.current()
    also = dict(also or {})
    lock([session.practitioner_id, *(s.practitioner_id for s in also.values())], session.patient)
    # The session's row too: a no-show mark (booking/attendance.py) waits, or is waited for.
    session = (
        Session.objects.select_for_update(of=("self",))
        .select_related("course__treatment", "patient")
        .get(pk=session.pk)
    )
    course = session.course
    change_refusal(session, now, rules, by_staff)
    siblings = {s.number: s for s in course.sessions.active() if s.pk != session.pk}
    cancelled = [session]
    if with_later:
        cancelled += [siblings.pop(n) for n in sorted(siblings) if n > session.number]
        for later in cancelled[1:]:
            change_refusal(later, now, rules, by_staff)
    starts = {n: s.start for n, s in siblings.items()}
    moves = []
    for number, slot in sorted(also.items()):
        later = siblings.get(number)
        if later is None or number <= session.number:
            raise BookingError(gettext("That session is not one that can move with this one."))
        change_refusal(later, now, rules, by_staff)
        moves.append((later, slot_for(slot.start, course.treatment, slot.practitioner_id)))
        starts[number] = slot.start
    replan_or_refuse(
        course=course,
        starts=starts,
        changed_number=session.number,
        now=now,
        what=f"Session {session.number} cancelled",
        by_staff=by_staff,
        override_reason=(override_reason or "").strip(),
        by=by,
        exclude_session_ids=[c.pk for c in cancelled] + [s.pk for s in siblings.values()],
    )
    if moves:
        slots_free(
            moves=moves,
            treatment=course.treatment,
            patient=session.patient,
            now=now,
            rules=staff_rules(rules) if by_staff else rules,
            exclude=[session.pk, *(m.pk for m, _slot in moves)],
        )
    ledger.sessions_not_given(cancelled, now=now, by=by, waive_reason=waive_reason)
    _mark_cancelled(cancelled, now)
    reminders.queue_for_cancel(cancelled, now=now, notify=notify)
    _waitlist_told(cancelled, now)
    if moves:
        sessions_shift(
            moves,
            treatment=course.treatment,
            patient=session.patient,
            now=now,
            exclude_session_ids=[m.pk for m, _slot in moves],
            by=by,
            waive_reason=waive_reason,
        )
    if not course.sessions.active().exists():
        course.status = Course.Status.CANCELLED
        course.save(update_fields=["status"])
    elif notify and not moves and not with_later:
        reminders.queue_for_next_window(session, now=now)
    logger.info("session cancelled", extra={"session_id": session.pk, "moved": len(moves)})
    return session


@transaction.atomic
def course_cancel(
    *,
    course: Course,
    now: datetime | None = None,
    by_staff: bool = False,
    notify: bool = True,
    by=None,
    waive_reason: str = "",
) -> list[Session]:
    """Cancel every session still to come; all or none. Each is taken off the course's
    price in the ledger, after the cancellation policy's outcome when inside the notice."""
    now = now or timezone.now()
    rules = BookingRules.current()
    upcoming = list(course.sessions.filter(status=Session.Status.BOOKED, start__gt=now))
    lock([s.practitioner_id for s in upcoming] or [course.practitioner_id], course.patient)
    upcoming = list(
        course.sessions.select_for_update(of=("self",))
        .filter(status=Session.Status.BOOKED, start__gt=now)
        .order_by("start")
    )
    for session in upcoming:
        change_refusal(session, now, rules, by_staff)
    ledger.sessions_not_given(upcoming, now=now, by=by, waive_reason=waive_reason)
    _mark_cancelled(upcoming, now)
    reminders.queue_for_cancel(upcoming, now=now, notify=notify)
    _waitlist_told(upcoming, now)
    course_status_after_cancel(course)
    logger.info("course cancelled", extra={"course_id": course.pk, "sessions": len(upcoming)})
    return upcoming
