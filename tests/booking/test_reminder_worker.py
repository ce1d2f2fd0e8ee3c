"""Reminders through a real Celery worker process on Redis and PostgreSQL."""

import time
import uuid
from datetime import timedelta
from pathlib import Path

import pytest
from django.utils import timezone

from booking import selectors
from booking.models import Reminder
from booking.tasks import dispatch_due_reminders
from tests.booking.factories import book_course
from tests.celery_worker import start_worker

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.redis
@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_real_worker_sends_the_due_reminders_once(tmp_path, treatment, practitioner, patient):
    now = timezone.now()
    today = timezone.localdate()
    slot = selectors.free_slots(
        treatment=treatment,
        day_from=today + timedelta(days=3),
        day_to=today + timedelta(days=10),
        now=now,
        practitioners=[practitioner],
    )[0]
    course = book_course(patient=patient, treatment=treatment, slots=[slot])
    queue = f"test-{uuid.uuid4().hex[:8]}"
    worker = start_worker(queue=queue, EMAIL_URL=f"filemail://{tmp_path}")
    try:
        dispatch_due_reminders.apply_async(queue=queue)
        dispatch_due_reminders.apply_async(queue=queue)  # beat firing twice changes nothing
        deadline = time.monotonic() + 60
        due = Reminder.objects.filter(
            session__course=course,
            kind__in=[Reminder.Kind.CONFIRMATION, Reminder.Kind.CLINIC_NOTICE],
        )
        while time.monotonic() < deadline and due.exclude(status="sent").exists():
            time.sleep(0.5)
        assert not due.exclude(status="sent").exists(), list(due.values("kind", "status"))
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    messages = [p.read_text() for p in tmp_path.iterdir()]
    keys = [
        line
        for text in messages
        for line in text.splitlines()
        if line.startswith("Idempotency-Key:")
    ]
    assert len(keys) == 2 and len(set(keys)) == 2, output
    assert "Traceback" not in output
