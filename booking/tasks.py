"""Thin Celery tasks over booking/reminders.py (ids in, a service call, nothing held)."""

from celery import shared_task
from django.utils import timezone

from . import reminders


@shared_task(name="booking.dispatch_due_reminders", acks_late=True, ignore_result=True)
def dispatch_due_reminders() -> int:
    """Every minute (django-celery-beat): claim due rows and hand each to a send task."""
    claimed = 0
    for _ in range(20):  # at most 20 batches a minute; the next run takes the rest
        ids = reminders.dispatch_due(now=timezone.now())
        for reminder_id in ids:
            reminder_send.delay(reminder_id)
        claimed += len(ids)
        if len(ids) < reminders.BATCH:
            break
    return claimed


@shared_task(name="booking.reminder_send", acks_late=True, ignore_result=True)
def reminder_send(reminder_id: int) -> str:
    return reminders.reminder_send(reminder_id=reminder_id)
