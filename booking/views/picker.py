"""What the pages that offer times share: the day a request asks for, the picker's
context, the list of times to choose from, and booking the one posted."""

from datetime import date

from django.contrib import messages
from django.http import HttpRequest
from django.shortcuts import redirect
from django.utils.translation import gettext

from .. import selectors, services
from ..forms import posted_slot
from ..journey import slot_value


def asked_day(request: HttpRequest, name: str) -> date | None:
    """The date in ?<name>=YYYY-MM-DD, or None (the picker keeps it inside its days)."""
    try:
        return date.fromisoformat(request.GET.get(name) or "")
    except ValueError:
        return None


def picker_context(request: HttpRequest, picker, *, first_day: date, last_day: date, **more):
    """The names templates/booking/includes/picker.html reads."""
    return {
        "picker": picker,
        "picker_url": request.path,
        "picker_first": first_day,
        "picker_last": last_day,
        **more,
    }


def time_choices(treatment, slots) -> list[tuple]:
    """(form value, slot, practitioner) of each of `slots`, for the list of times to choose
    from (templates/booking/includes/time_choices.html)."""
    names = {p.pk: p for p in selectors.practitioners_for(treatment)}
    return [(slot_value(s), s, names.get(s.practitioner_id)) for s in slots]


def book_posted_time(request, *, treatment, book, retry: str, booked):
    """Book the time the form posted with `book(slot)` (a service call). When it cannot
    be, the reason, and back to `retry` (a URL) to choose again; when it is,
    `booked(session)` (the message) and My appointments."""
    slot = posted_slot(request.POST.get("slot", ""), treatment)
    if slot is None:
        messages.error(request, gettext("Please choose one of the times shown."))
        return redirect(retry)
    try:
        session = book(slot)
    except services.BookingError as error:
        messages.error(request, error.message)
        return redirect(retry)
    messages.success(request, booked(session))
    return redirect("booking:appointments")
