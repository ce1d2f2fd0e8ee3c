"""Thin Celery tasks over booking/reminders.py (ids in, a service call, nothing held)."""

from celery import shared_task
from django.utils import timezone

from clinic.celery import worker_id, workers_answering

from . import reminders
from .deposits import services as deposits
from .models import Reminder
from .waitlist import services as waitlist


@shared_task(name="booking.dispatch_due_reminders", acks_late=True, ignore_result=True)
def dispatch_due_reminders() -> int:
    """Every minute (django-celery-beat): release the claims of workers that are gone,
    then claim due rows and hand each to a send task."""
    worker = worker_id()
    reminders.orphaned_claims_release(
        now=timezone.now(), worker=worker, answering=workers_answering
    )
    claimed = 0
    for _ in range(20):  # at most 20 batches a minute; the next run takes the rest
        ids = reminders.dispatch_due(now=timezone.now(), worker=worker)
        for reminder_id in ids:
            reminder_send.delay(reminder_id, worker)
        claimed += len(ids)
        if len(ids) < reminders.BATCH:
            break
    return claimed


@shared_task(name="booking.reminder_send", acks_late=True, ignore_result=True)
def reminder_send(reminder_id: int, holder: str = "") -> str:
    """Send one claimed row; `holder` is the worker that claimed it ("" when unknown)."""
    worker = worker_id()
    if worker and worker != holder:  # claimed elsewhere: if this worker dies, its claim is gone
        reminders.claim_take_over(reminder_id=reminder_id, worker=worker)
    return reminders.reminder_send(reminder_id=reminder_id)


@shared_task(name="booking.waitlist_run", acks_late=True, ignore_result=True)
def waitlist_run() -> dict:
    """Every 10 seconds (django-celery-beat): end old entries, lapse holds and hand their
    time on, offer freed time; then claim the offer emails now due, as the reminder
    dispatcher would, so an offer goes out within seconds, not at the next minute."""
    done = waitlist.waitlist_sweep(now=timezone.now())
    worker = worker_id()
    ids = reminders.dispatch_due(now=timezone.now(), worker=worker, kinds=[Reminder.Kind.OFFER])
    for reminder_id in ids:
        reminder_send.delay(reminder_id, worker)
    return {**done, "sending": len(ids)}


@shared_task(name="booking.deposits_sweep", acks_late=True, ignore_result=True)
def deposits_sweep() -> dict:
    """Every minute (django-celery-beat): release holds whose Stripe Checkout expired with
    no webhook, and refund through Stripe what is owed back online."""
    return deposits.deposits_sweep(now=timezone.now())
