"""The week a page shows, from its ?week= parameter."""

from datetime import date, timedelta


def week_start(value: str | None, today: date) -> date:
    """The Monday of the week `value` names; `today`'s for anything else or far off."""
    try:
        day = date.fromisoformat(value) if value else today
    except ValueError:
        day = today
    if abs((day - today).days) > 731:  # also keeps date arithmetic clear of year 1 and 9999
        day = today
    return day - timedelta(days=day.weekday())
