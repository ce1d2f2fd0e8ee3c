"""A worker killed mid-send: the lease brings the row back, and nothing is lost.

Two fixed cases, each with a real Celery worker on Redis that SIGKILLs itself
once (tests/booking/crash_backend.py) and a lease of 2 seconds:
- killed before the SMTP conversation: the row is retaken and sent once in all;
- killed after the SMTP server took the message but before the row was marked:
  at most two sends, both with the same idempotency key and Message-ID (the
  documented window).
"""

import time
import uuid
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from booking import selectors
from booking.models import Reminder
from booking.reminders import dispatch_due
from booking.tasks import reminder_send
from tests.booking.factories import book_course
from tests.booking.smtp_sink import SmtpSink
from tests.celery_worker import start_worker

ROOT = Path(__file__).resolve().parents[2]
LEASE = 2


def crashing_worker(queue, sink, marker, crash_at):
    return start_worker(
        queue=queue,
        settings_module="tests.booking.crash_settings",
        EMAIL_URL=f"smtp://127.0.0.1:{sink.port}",
        REMINDER_LEASE_SECONDS=str(LEASE),
        CRASH_MARKER=str(marker),
        CRASH_AT=crash_at,
    )


def hand_out(queue):
    for reminder_id in dispatch_due(now=timezone.now()):
        reminder_send.apply_async((reminder_id,), queue=queue)


def wait_for(condition, seconds=40):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.3)
    return False


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(("crash_at", "sends"), [("before", 1), ("after", 2)])
def test_a_killed_worker_loses_nothing(
    tmp_path, treatment, practitioner, patient, crash_at, sends, settings
):
    settings.REMINDER_LEASE_SECONDS = LEASE  # the dispatcher here uses the same lease
    today = timezone.localdate()
    slot = selectors.free_slots(
        treatment=treatment,
        day_from=today + timedelta(days=3),
        day_to=today + timedelta(days=10),
        now=timezone.now(),
        practitioners=[practitioner],
    )[0]
    course = book_course(patient=patient, treatment=treatment, slots=[slot])
    confirmation = Reminder.objects.get(session__course=course, kind="confirmation")
    Reminder.objects.exclude(pk=confirmation.pk).delete()  # one row: one story to follow
    queue, marker = f"crash-{uuid.uuid4().hex[:8]}", tmp_path / "crashed"
    with SmtpSink() as sink:
        first = crashing_worker(queue, sink, marker, crash_at)
        try:
            hand_out(queue)
            assert wait_for(lambda: first.poll() is not None), "the worker did not crash"
            assert first.returncode == -9  # SIGKILL
            confirmation.refresh_from_db()
            assert confirmation.status == "sending"  # the claim outlives its worker
            time.sleep(LEASE + 0.5)
            second = crashing_worker(queue, sink, marker, crash_at)
            try:
                hand_out(queue)  # the lease has run out: the row is taken again
                assert wait_for(lambda: Reminder.objects.get(pk=confirmation.pk).status == "sent")
            finally:
                second.terminate()
                second.communicate(timeout=30)
        finally:
            if first.poll() is None:
                first.kill()
            first.communicate(timeout=30)
        received = [m for m in sink.messages if m["key"]]
    keys = Counter(m["key"] for m in received)
    assert list(keys.values()) == [sends]
    assert len({m["message_id"] for m in received}) == 1
    confirmation.refresh_from_db()
    assert confirmation.message_id == received[0]["message_id"]
