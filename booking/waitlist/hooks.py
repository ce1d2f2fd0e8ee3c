"""What the booking services tell the waitlist, inside their own transaction.

Only rows are written here (models, no services), so every path that frees
time or changes a session can call these: the patient's pages, phone booking,
the admin's forms and actions, time off, the shell. The periodic waitlist task
(booking/tasks.py) matches the freed time to entries within seconds.
"""

import logging
from collections.abc import Iterable
from datetime import datetime

from django.utils import timezone

from ..models import Reminder, ReminderEvent, Session
from .models import FreedTime, Offer, WaitlistEntry

logger = logging.getLogger(__name__)


def time_freed(
    *,
    practitioner_id: int | None,
    start: datetime,
    end: datetime,
    cause: str,
    now: datetime | None = None,
) -> FreedTime | None:
    """Note time that came free (for one practitioner, or everyone: None); past time is not.
    `now`: the caller's (a service's explicit `now`, as in the tests), else the clock's."""
    now = now or timezone.now()
    if end <= now:
        return None
    return FreedTime.objects.create(
        practitioner_id=practitioner_id, start=max(start, now), end=end, cause=cause
    )


def sessions_freed(sessions: Iterable[Session], *, cause: str, now: datetime | None = None) -> None:
    """The times these sessions held are free now (cancelled, or moved away)."""
    now = now or timezone.now()
    FreedTime.objects.bulk_create(
        [
            FreedTime(practitioner_id=s.practitioner_id, start=s.start, end=s.end, cause=cause)
            for s in sessions
            if s.end > now
        ]
    )


def hold_release(offer: Offer, *, status: str, reason: str, now: datetime, free=True) -> None:
    """End a live offer (the caller holds its row lock): its hold is cancelled, its email
    stopped if not yet sent, and (`free`) the time handed on to the next match."""
    hold = offer.hold
    offer.status, offer.reason, offer.decided_at = status, reason[:200], now
    offer.save(update_fields=["status", "reason", "decided_at"])
    Session.with_holds.filter(pk=hold.pk, status=Session.Status.HELD).update(
        status=Session.Status.CANCELLED, cancelled_at=now, updated_at=now
    )
    pending = list(
        Reminder.objects.open()
        .select_for_update()
        .filter(session_id=hold.pk)
        .values_list("pk", flat=True)
    )
    if pending:
        Reminder.objects.filter(pk__in=pending).update(
            status=Reminder.Status.CANCELLED, reason="The offer ended.", updated_at=now
        )
        ReminderEvent.objects.bulk_create(
            [ReminderEvent(reminder_id=pk, event="cancelled", at=now) for pk in pending]
        )
    if free:
        cause = {
            Offer.Status.DECLINED: FreedTime.Cause.DECLINED,
            Offer.Status.LAPSED: FreedTime.Cause.LAPSED,
        }.get(status, FreedTime.Cause.WITHDRAWN)
        time_freed(
            practitioner_id=hold.practitioner_id,
            start=hold.start,
            end=hold.end,
            cause=cause,
            now=now,
        )
    logger.info("waitlist offer ended", extra={"offer_id": offer.pk, "status": status})


def offers_withdraw(entry_ids, *, reason: str, now: datetime) -> None:
    """The live offers to these entries end as withdrawn; their time is handed on."""
    for offer in (
        Offer.objects.select_for_update(of=("self",))
        .live()
        .filter(entry_id__in=list(entry_ids))
        .select_related("hold")
    ):
        hold_release(offer, status=Offer.Status.WITHDRAWN, reason=reason, now=now)


def entries_end(sessions: Iterable[Session], *, reason: str, now: datetime | None = None) -> int:
    """The waiting entries for an earlier time of these sessions end (the session was
    moved, cancelled or attended), and any live offer to them is withdrawn."""
    now = now or timezone.now()
    ids = [s.pk for s in sessions]
    if not ids:
        return 0
    entries = list(
        WaitlistEntry.objects.select_for_update()
        .filter(session_id__in=ids, status=WaitlistEntry.Status.WAITING)
        .values_list("pk", flat=True)
    )
    if not entries:
        return 0
    offers_withdraw(entries, reason=reason, now=now)
    return WaitlistEntry.objects.filter(pk__in=entries).update(
        status=WaitlistEntry.Status.ENDED, ended_reason=reason[:200], updated_at=now
    )
