"""What the waitlist's guarantee tests share: a practitioner's day with no free time, and the
sender's work done in process."""

from datetime import datetime, timedelta

import time_machine

from booking import reminders
from booking.models import Offer, Reminder, Session
from tests.booking.factories import PatientFactory
from tests.helpers import at, book

# Five 75-minute sessions with the 15-minute buffer after each fill 09:00 to 17:00.
DAY_STARTS = [(9, 0), (10, 30), (12, 0), (13, 30), (15, 0)]


def full_day(treatment, practitioner, month: int = 6, day: int = 3) -> dict[str, Session]:
    """The practitioner's day booked by five other patients (one-session courses), keyed
    "09:00".."15:00": nothing is free that day until one of them goes."""
    return {
        f"{hour:02d}:{minute:02d}": book(
            PatientFactory(), treatment, practitioner, [at(month, day, hour, minute)]
        ).sessions.get()
        for hour, minute in DAY_STARTS
    }


def send_offers(now: datetime) -> list[str]:
    """The dispatcher's work, in process: claim the offer emails due and send them."""
    return [
        reminders.reminder_send(reminder_id=pk, now=now)
        for pk in reminders.dispatch_due(now=now, kinds=[Reminder.Kind.OFFER])
    ]


def offers_to(patient) -> list[Offer]:
    return list(Offer.objects.filter(patient=patient).select_related("hold").order_by("pk"))


def live_offer(patient) -> Offer:
    return Offer.objects.live().select_related("hold", "entry").get(patient=patient)


def joined(hours_ago: float, patient, treatment, **wish):
    """tests/waitlist/conftest.py join(), `hours_ago` hours before the tests' clock (NOW):
    the order patients joined in, whatever order the rows were written in."""
    from tests.waitlist.conftest import NOW, join

    with time_machine.travel(NOW - timedelta(hours=hours_ago), tick=False):
        return join(patient, treatment, **wish)
