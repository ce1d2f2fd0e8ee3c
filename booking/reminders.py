"""Reminder rows: scheduled with the booking change, claimed once, sent once.

- queue_for_*: called by booking/services/ inside the same transaction as the
  change that causes them (book, move, cancel).
- dispatch_due: claims due rows (and rows whose claim outlived the lease) with
  SELECT ... FOR UPDATE SKIP LOCKED, marks them sending by this worker, returns
  their ids.
- claim_take_over: the worker that runs a row's send task holds its claim from
  then on (when another worker's dispatcher claimed it).
- orphaned_claims_release: claims held by a worker that no longer answers go
  back to pending, for the dispatcher to claim again at once; the lease stays
  as the backstop.
- reminder_send: re-checks the row and its session under a row lock, sends,
  and marks it sent. A transient mail failure moves it later without using an
  attempt; a permanent one uses an attempt, and the last one marks it failed.
Once, whoever claims: a row is sent only by a task holding its lock while it is
"sending", and it stops being "sending" in the transaction that sends it; a
release or a lease retake skips locked rows, so a send in progress is never
taken from a live worker. A worker killed after the mail server took the
message but before the row was marked leaves one window: the row is taken again
and sent again with the same idempotency key and Message-ID, so a receiving
system can drop it.
"""

import contextlib
import logging
import smtplib
import threading
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import get_connection
from django.core.mail.backends.smtp import EmailBackend as SMTPBackend
from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from . import selectors
from .courses import session_window
from .models import Course, Reminder, ReminderEvent, ReminderSettings, Session
from .reminder_kinds import AFTER_CANCEL, KINDS, SESSION_TIMED
from .reminder_timing import after_quiet_hours, due_times
from .rulebook import spacing_of
from .waitlist.sending import offer_prepare

logger = logging.getLogger(__name__)
Kind, Status = Reminder.Kind, Reminder.Status
BATCH = 50
# The treatment's page text is not in any email; only its aftercare is.
UNUSED_IN_EMAILS = [
    f"session__course__treatment__{field}"
    for field in (
        "body",
        "body_html",
        "toc",
        "who_it_helps",
        "who_it_helps_html",
        "other_names",
        "search_vector",
    )
]
MAX_BACKOFF = timedelta(hours=1)


def _log(reminder_ids, event: str, at: datetime, detail: str = "") -> None:
    """One history row per reminder, in one query."""
    ReminderEvent.objects.bulk_create(
        [
            ReminderEvent(reminder_id=pk, event=event, at=at, detail=detail[:300])
            for pk in reminder_ids
        ]
    )


def _lease() -> timedelta:
    return timedelta(seconds=settings.REMINDER_LEASE_SECONDS)


def _claim_check() -> timedelta:
    return timedelta(seconds=settings.REMINDER_CLAIM_CHECK_SECONDS)


def _reopen(session: Session, kind: str, due_at: datetime) -> None:
    """Make (session, kind) pending at `due_at`, as a new version when it existed."""
    row = Reminder.objects.filter(session=session, kind=kind).first()
    if row is None:
        Reminder.objects.create(session=session, kind=kind, due_at=due_at)
        return
    row.version += 1
    row.status, row.due_at, row.claimed_at, row.reason = Status.PENDING, due_at, None, ""
    row.claimed_by = ""
    row.attempts = row.deferrals = 0
    row.save(
        update_fields=[
            "version",
            "status",
            "due_at",
            "claimed_at",
            "claimed_by",
            "reason",
            "attempts",
            "deferrals",
            "updated_at",
        ]
    )
    _log([row.pk], "rescheduled", timezone.now(), f"v{row.version}, due {due_at:%Y-%m-%d %H:%M}")


def queue_for_course(sessions: Sequence[Session], *, now: datetime) -> None:
    """At booking: the confirmation and clinic notice, and each session's own rows."""
    config, zone = ReminderSettings.current(), selectors.clinic_zone()
    first = sessions[0]
    rows = [
        Reminder(session=first, kind=Kind.CONFIRMATION, due_at=now),
        Reminder(session=first, kind=Kind.CLINIC_NOTICE, due_at=now),
    ]
    for session in sessions:
        for kind, due in due_times(
            start=session.start, end=session.end, booked_at=now, zone=zone, settings=config
        ).items():
            if due is not None:
                rows.append(Reminder(session=session, kind=kind, due_at=due))
    Reminder.objects.bulk_create(rows)


def reminders_cancel(rows, *, now: datetime, reason: str) -> int:
    """Cancel these open rows and log each; returns how many.

    The rows are locked first: a worker sending one right now holds its lock,
    so this waits, and a row it has just sent is no longer open when re-read
    (PostgreSQL re-checks the filter after the wait), so it stays sent.
    """
    ids = list(rows.select_for_update().values_list("pk", flat=True))
    if ids:
        Reminder.objects.filter(pk__in=ids).update(
            status=Status.CANCELLED, reason=reason, updated_at=now
        )
        _log(ids, "cancelled", now, reason)
    return len(ids)


def queue_for_move(session: Session, *, now: datetime) -> None:
    """After a move: re-time the session's rows and tell the patient."""
    config, zone = ReminderSettings.current(), selectors.clinic_zone()
    times = due_times(
        start=session.start, end=session.end, booked_at=now, zone=zone, settings=config
    )
    for kind in SESSION_TIMED:
        if times[kind] is None:
            reminders_cancel(
                Reminder.objects.open().filter(session=session, kind=kind),
                now=now,
                reason="The new time is too soon for it.",
            )
        else:
            _reopen(session, kind, times[kind])
    _reopen(session, Kind.CHANGED, now)


def queue_for_cancel(sessions: Sequence[Session], *, now: datetime, notify: bool = True) -> None:
    """After a cancellation: nothing more about these sessions, one notice about them all."""
    reminders_cancel(
        Reminder.objects.open().filter(session__in=sessions).exclude(kind__in=AFTER_CANCEL),
        now=now,
        reason="The session was cancelled.",
    )
    if notify and sessions:
        _reopen(sessions[0], Kind.CANCELLED, now)


def queue_for_next_window(session: Session, *, now: datetime) -> None:
    """A later session cancelled alone: tell the patient when it can be booked again."""
    course = session.course
    before = selectors.previous_active(session)
    if before is None:
        return
    config, zone = ReminderSettings.current(), selectors.clinic_zone()
    window = session_window(before.start, spacing_of(course.treatment), zone)
    opens = datetime.combine(window.first_day, config.quiet_until, tzinfo=zone)
    _reopen(
        session,
        Kind.NEXT_WINDOW,
        after_quiet_hours(max(opens, now), zone, config.quiet_from, config.quiet_until),
    )


def dispatch_due(
    *, now: datetime, batch: int = BATCH, worker: str = "", kinds: Sequence[str] = ()
) -> list[int]:
    """Claim up to `batch` due rows (of `kinds`, or any) for `worker` (clinic.celery.worker_id;
    "" outside a worker); the same queries whatever the batch size."""
    due = Reminder.objects.filter(kind__in=kinds) if kinds else Reminder.objects.all()
    with transaction.atomic():
        ids = list(
            due.select_for_update(skip_locked=True)
            .filter(
                Q(status=Status.PENDING, due_at__lte=now)
                | Q(status=Status.SENDING, claimed_at__lt=now - _lease())
            )
            .order_by("due_at")
            .values_list("pk", flat=True)[:batch]
        )
        if ids:
            Reminder.objects.filter(pk__in=ids).update(
                status=Status.SENDING, claimed_at=now, claimed_by=worker, updated_at=now
            )
            _log(ids, "claimed", now, worker)
    return ids


def claim_take_over(*, reminder_id: int, worker: str) -> None:
    """The worker about to send a row another worker claimed holds the claim from now on.

    Written before the send's own transaction, so that it is seen if this
    worker dies mid-send. It is a hint for a faster retake, never needed for
    sending once: PostgreSQL need not wait for it to reach the disk.
    """
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET LOCAL synchronous_commit = off")
        Reminder.objects.filter(pk=reminder_id, status=Status.SENDING).exclude(
            claimed_by=worker
        ).update(claimed_by=worker)


def orphaned_claims_release(
    *, now: datetime, worker: str, answering: Callable[[set[str]], set[str] | None]
) -> int:
    """Claims of workers that no longer answer go back to pending; how many.

    Only claims older than REMINDER_CLAIM_CHECK_SECONDS are asked about (a
    dispatcher that finds none asks nobody), never this worker's own nor those
    made outside a worker (only the lease retakes those). `answering(holders)`
    says which holders answer, None when it could not ask: then nothing is
    released. Rows locked by a send in progress are skipped.
    """
    stale = Reminder.objects.filter(status=Status.SENDING, claimed_at__lt=now - _claim_check())
    holders = set(
        stale.exclude(claimed_by__in=["", worker])
        .order_by()
        .values_list("claimed_by", flat=True)
        .distinct()
    )
    if not holders:
        return 0
    answered = answering(holders)
    if answered is None:
        return 0
    gone = holders - answered
    if not gone:
        return 0
    with transaction.atomic():
        rows = list(
            stale.select_for_update(skip_locked=True)
            .filter(claimed_by__in=gone)
            .order_by()
            .values_list("pk", "claimed_by")
        )
        if rows:
            Reminder.objects.filter(pk__in=[pk for pk, _holder in rows]).update(
                status=Status.PENDING, claimed_at=None, claimed_by="", updated_at=now
            )
            ReminderEvent.objects.bulk_create(
                [
                    ReminderEvent(
                        reminder_id=pk,
                        event="released",
                        at=now,
                        detail=f"{holder} no longer answers"[:300],
                    )
                    for pk, holder in rows
                ]
            )
    if rows:
        logger.warning(
            "reminder claims released", extra={"rows": len(rows), "workers": sorted(gone)}
        )
    return len(rows)


def _skip(reminder: Reminder, now: datetime, config: ReminderSettings) -> tuple[str, str]:
    """(status, reason) when the row must not go out now, its kind's premise gone; else ("", "").

    Each kind's premise is in booking/reminder_kinds.py; this re-checks it at the
    moment of sending, under the row's lock.
    """
    session, kind = reminder.session, reminder.kind
    rule = KINDS[kind]
    if session.status == Session.Status.CANCELLED and not rule.after_cancel:
        return Status.CANCELLED, "The session was cancelled."
    if kind == Kind.REMINDER and session.start - now < timedelta(
        hours=config.reminder_min_hours_before
    ):
        return Status.SKIPPED, "Too close to the session to remind."
    if rule.after_the_session and session.status == Session.Status.NO_SHOW:
        return Status.SKIPPED, "The patient did not come."
    if kind == Kind.NEXT_WINDOW:
        if session.course.status == Course.Status.CANCELLED:
            return Status.SKIPPED, "The course was cancelled."
        if session.course.sessions.active().filter(number=session.number).exists():
            return Status.SKIPPED, "The session was booked again."
    if rule.opt_out and not getattr(session.patient, rule.opt_out):
        return Status.SKIPPED, "The patient turned this email off."
    return "", ""


def _too_early(reminder: Reminder, now: datetime, config: ReminderSettings) -> datetime | None:
    """When a row about a treatment given fell due before the session ended (an edit, a
    clock): the time it is due at; else None."""
    session = reminder.session
    if not KINDS[reminder.kind].after_the_session or now >= session.end:
        return None
    return due_times(
        start=session.start,
        end=session.end,
        booked_at=now,
        zone=selectors.clinic_zone(),
        settings=config,
    )[reminder.kind]


def _is_transient(exc: Exception) -> bool:
    """Connection refused, timeouts, disconnects and 4xx: try later, no attempt used."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _msg in exc.recipients.values()]
        return all(400 <= code < 500 for code in codes)
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    return isinstance(exc, (smtplib.SMTPServerDisconnected, smtplib.SMTPConnectError, OSError))


def _plan_joins_as_written() -> None:
    """Let PostgreSQL join the row's seven tables in the order the query names them.

    Each join is a primary-key lookup, so that order is the best plan, yet
    searching all orders took the planner about 2 ms a send, ten times the
    query's run time. SET LOCAL ends with the transaction.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL join_collapse_limit = 1")


class _Mailer(threading.local):
    """One SMTP connection per worker process (per thread), kept open while reminders flow.

    Opening a connection (TCP, banner, EHLO, QUIT) cost about as much as the
    message itself. It is dropped after IDLE_SECONDS without use, well inside
    any server's idle timeout, and after any error, so a connection in an
    unknown state is never reused. Other backends (console, file, locmem) are
    used as configured, one connection per message.
    """

    IDLE_SECONDS = 10

    def __init__(self):
        self.backend, self.key, self.last_used = None, None, 0.0

    def send(self, message) -> None:
        key = (settings.EMAIL_BACKEND, settings.EMAIL_HOST, settings.EMAIL_PORT)
        if self.backend is not None and (
            key != self.key or time.monotonic() - self.last_used > self.IDLE_SECONDS
        ):
            self.close()
        if self.backend is None:
            backend = get_connection()
            if not isinstance(backend, SMTPBackend):
                backend.send_messages([message])
                return
            backend.open()  # opened here, so send_messages leaves it open
            self.backend, self.key = backend, key
        try:
            self.backend.send_messages([message])
        except BaseException:
            self.close()
            raise
        self.last_used = time.monotonic()

    def close(self) -> None:
        backend, self.backend = self.backend, None
        if backend is not None:
            with contextlib.suppress(smtplib.SMTPException, OSError):
                backend.close()


_mailer = _Mailer()


def _backoff(count: int) -> timedelta:
    return min(timedelta(minutes=2 ** min(count, 10)), MAX_BACKOFF)


def reminder_send(*, reminder_id: int, now: datetime | None = None) -> str:
    """Send one claimed row; returns what happened (for logs and tests)."""
    from .reminder_emails import build_message

    now = now or timezone.now()
    config = ReminderSettings.current()
    with transaction.atomic():
        _plan_joins_as_written()
        found = list(
            Reminder.objects.select_for_update(of=("self",))
            .select_related(
                "session__course__treatment", "session__patient__user", "session__practitioner"
            )
            .defer(*UNUSED_IN_EMAILS)
            .filter(pk=reminder_id)[:1]  # no ORDER BY: the primary key finds one row
        )
        reminder = found[0] if found else None
        if reminder is None or reminder.status != Status.SENDING:
            return "not claimed"
        status, reason = _skip(reminder, now, config)
        if status:
            reminder.status, reminder.reason = status, reason
            reminder.save(update_fields=["status", "reason", "updated_at"])
            _log([reminder.pk], reminder.status, now, reason)
            return "skipped"
        if due_at := _too_early(reminder, now, config):
            reminder.status, reminder.due_at = Status.PENDING, due_at
            reminder.save(update_fields=["status", "due_at", "updated_at"])
            _log([reminder.pk], "deferred", now, "The session has not ended yet.")
            return "deferred"
        if reminder.kind == Kind.OFFER:  # quiet hours, and the hold's clock starts now
            prepared = offer_prepare(reminder, now)
            if prepared.action == "defer":
                reminder.status, reminder.due_at = Status.PENDING, prepared.at
                reminder.save(update_fields=["status", "due_at", "updated_at"])
                _log([reminder.pk], "deferred", now, "Quiet hours.")
                return "deferred"
            if prepared.action == "skip":
                reminder.status, reminder.reason = Status.SKIPPED, prepared.reason
                reminder.save(update_fields=["status", "reason", "updated_at"])
                _log([reminder.pk], reminder.status, now, prepared.reason)
                return "skipped"
        message = build_message(reminder)
        try:
            _mailer.send(message)
        except Exception as exc:  # noqa: BLE001 - classified below, never lost
            if not isinstance(exc, (smtplib.SMTPException, OSError)):
                raise
            reminder.last_error = f"{type(exc).__name__}: {exc}"[:300]
            if _is_transient(exc):
                reminder.deferrals += 1
                reminder.status, reminder.due_at = (
                    Status.PENDING,
                    now + _backoff(reminder.deferrals),
                )
                outcome = "deferred"
            else:
                reminder.attempts += 1
                if reminder.attempts >= config.max_attempts:
                    reminder.status, outcome = Status.FAILED, "failed"
                else:
                    reminder.status, outcome = Status.PENDING, "retry"
                    reminder.due_at = now + _backoff(reminder.attempts)
            reminder.save(
                update_fields=[
                    "last_error",
                    "deferrals",
                    "attempts",
                    "status",
                    "due_at",
                    "updated_at",
                ]
            )
            _log([reminder.pk], outcome, now, reminder.last_error)
            logger.warning(
                "reminder not sent",
                extra={"reminder_id": reminder.pk, "outcome": outcome, "error": type(exc).__name__},
            )
            return outcome
        reminder.status, reminder.sent_at = Status.SENT, now
        reminder.message_id = message.extra_headers["Message-ID"]
        reminder.save(update_fields=["status", "sent_at", "message_id", "updated_at"])
        _log([reminder.pk], "sent", now, reminder.message_id)
    logger.info("reminder sent", extra={"reminder_id": reminder.pk, "kind": reminder.kind})
    return "sent"


def reminder_retry(reminder: Reminder, *, now: datetime) -> None:
    """Staff's retry of a failed row: pending again, a fresh set of attempts."""
    if Reminder.objects.filter(pk=reminder.pk, status=Status.FAILED).update(
        status=Status.PENDING,
        due_at=now,
        attempts=0,
        deferrals=0,
        claimed_at=None,
        claimed_by="",
        updated_at=now,
    ):
        _log([reminder.pk], "retry", now, "asked for by staff")
