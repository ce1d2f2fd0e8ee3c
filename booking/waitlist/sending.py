"""The offer email: its checks at the moment it is sent, its links, and its message.

The email is a Reminder row of kind "offer" on the hold, so the reminder
dispatcher claims and sends it once (booking/reminders.py); reminder_send asks
`offer_prepare` first, under the row's lock.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.urls import reverse
from django.utils.translation import gettext

from clinic.emails import email_message
from clinic.tokens import token_make, token_read

from .. import selectors
from ..models import BookingRules, Reminder, ReminderSettings, Session
from ..reminder_kinds import KINDS
from ..reminder_timing import after_quiet_hours, in_quiet_hours
from . import matching
from .models import Offer

# The accept and decline links: an opaque token naming the offer (clinic/tokens.py).
# Single use and valid only while the time is held: the offer's own status says so.
OFFER_PURPOSE = "waitlist-offer"
OFFER_TOKEN_AGE = timedelta(days=3)  # longer than any hold; the status is what counts


def offer_token(offer: Offer) -> str:
    return token_make(OFFER_PURPOSE, {"o": offer.pk})


def offer_of_token(token: str) -> Offer | None:
    payload = token_read(OFFER_PURPOSE, token, max_age=OFFER_TOKEN_AGE) or {}
    if not isinstance(payload.get("o"), int):
        return None
    return (
        Offer.objects.select_related(
            "hold__practitioner", "entry__treatment", "entry__session__course", "patient__user"
        )
        .filter(pk=payload["o"])
        .first()
    )


@dataclass(frozen=True)
class Prepared:
    """What to do with an offer email now: "send" (the hold runs until `at`), "defer" (to
    `at`, after quiet hours) or "skip" (`reason`)."""

    action: str
    at: datetime | None = None
    reason: str = ""


def offer_prepare(reminder: Reminder, now: datetime) -> Prepared:
    """Before an offer email goes: it waits out quiet hours; the hold's clock starts now."""
    hold: Session = reminder.session
    config, zone = ReminderSettings.current(), selectors.clinic_zone()
    if hold.status != Session.Status.HELD:
        return Prepared("skip", reason="The offer has ended.")
    if in_quiet_hours(now, zone, config.quiet_from, config.quiet_until):
        return Prepared(
            "defer", after_quiet_hours(now, zone, config.quiet_from, config.quiet_until)
        )
    held_until = matching.hold_expiry(hold.start, now, rules=BookingRules.current())
    if held_until < now + matching.shortest_hold():
        # Too late for anyone to take it: the sweep lapses the hold at once.
        Session.with_holds.filter(pk=hold.pk).update(held_until=now)
        return Prepared("skip", reason="Too close to the time to offer it.")
    Session.with_holds.filter(pk=hold.pk).update(held_until=held_until)
    hold.held_until = held_until
    return Prepared("send", held_until)


def offer_message(reminder: Reminder, *, clinic, headers: dict):
    """The offer email: the time, how long it is held, and the accept and decline links."""
    hold = reminder.session
    offer = Offer.objects.select_related("entry__treatment", "entry__session__course").get(
        hold=hold
    )
    entry, zone = offer.entry, selectors.clinic_zone()
    start, until = hold.start.astimezone(zone), hold.held_until.astimezone(zone)
    token = offer_token(offer)
    base = settings.SITE_URL
    context = {
        "clinic": clinic,
        "site_url": base,
        "patient": hold.patient,
        "treatment": entry.treatment,
        "entry": entry,
        "session": entry.session,
        "hold": hold,
        "start": start,
        "held_until": until,
        "accept_url": base + reverse("booking:offer_accept", args=[token]),
        "decline_url": base + reverse("booking:offer_decline", args=[token]),
        "waitlist_url": base + reverse("booking:appointments") + "#waitlist",
    }
    subject = KINDS[Reminder.Kind.OFFER].subject % {
        "treatment": entry.treatment.name.lower(),
        "when": gettext("%(day)s at %(time)s")
        % {"day": f"{start:%A %-d %B}", "time": f"{start:%H:%M}"},
    }
    return email_message(
        "booking.offer",
        to=[hold.patient.user.email],
        subject=subject,
        context=context,
        headers=headers,
    )
