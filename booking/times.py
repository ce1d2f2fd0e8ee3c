"""How a session's or a slot's time reads, on every page and in every email.

Anything with ``start`` and ``end`` (a Session, a Slot) reads the same way
everywhere, start and end, in the clinic's time: `when` gives "Tuesday
8 December 2026, 10:00 to 10:45", `span` "10:00 to 10:45", `day` "Tuesday
8 December 2026". Templates use them as filters (booking/templatetags/booking_times.py).

Written with strftime and Django's translated day and month names rather than
the `date` filter: the time picker writes these for every time it offers, and
the `date` filter (django.utils.dateformat) cost ~80 µs a call there, most of
the page's rendering (`make bench`, the slot picker).
"""

from datetime import date

from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.translation import gettext


def _local(value):
    return timezone.localtime(value) if timezone.is_aware(value) else value


def long_date(value: date) -> str:
    """'Tuesday 8 December 2026': the date filter's 'l j F Y', names in the active language."""
    return f"{WEEKDAYS[value.weekday()]} {value.day} {MONTHS[value.month]} {value.year}"


class Words:
    """The words a time is written with, looked up once: a page writing many times (the
    time picker's buttons) keeps one, and each day's name is written once."""

    def __init__(self):
        self.to = gettext("%(start)s to %(end)s")
        self.comma = gettext("%(day)s, %(span)s")
        self._days: dict[date, str] = {}

    def long_date(self, value: date) -> str:
        if value not in self._days:
            self._days[value] = long_date(value)
        return self._days[value]

    def span(self, item) -> str:
        """'10:00 to 10:45'."""
        start, end = _local(item.start), _local(item.end)
        return self.to % {"start": f"{start:%H:%M}", "end": f"{end:%H:%M}"}

    def when(self, item) -> str:
        """'Tuesday 8 December 2026, 10:00 to 10:45'."""
        return self.comma % {
            "day": self.long_date(_local(item.start).date()),
            "span": self.span(item),
        }


def day(item) -> str:
    """'Tuesday 8 December 2026'."""
    return long_date(_local(item.start).date())


def span(item) -> str:
    """'10:00 to 10:45'."""
    return Words().span(item)


def when(item) -> str:
    """'Tuesday 8 December 2026, 10:00 to 10:45'."""
    return Words().when(item)
