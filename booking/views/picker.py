"""What the time picker's pages share: the day a request asks for, and the picker's context."""

from datetime import date

from django.http import HttpRequest


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
