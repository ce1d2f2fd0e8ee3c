"""What a Celery worker does with due reminders, done in the test's own process."""

from datetime import datetime

from django.utils import timezone

from booking.reminders import dispatch_due, reminder_send


def send_all_due(*, now: datetime | None = None) -> int:
    """Claim and send every due row, as the dispatcher and send tasks would; the number sent."""
    sent = 0
    now = now or timezone.now()
    while ids := dispatch_due(now=now):
        for reminder_id in ids:
            sent += reminder_send(reminder_id=reminder_id, now=now) == "sent"
    return sent
