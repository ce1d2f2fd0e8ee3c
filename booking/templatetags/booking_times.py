"""How a session's or a slot's time reads on every page and in every email.

Anything with ``start`` and ``end`` (a Session, a Slot) reads the same way
everywhere, start and end, in the clinic's time:

    {{ session|when }}     Tuesday 8 December 2026, 10:00 to 10:45
    {{ session|span }}     10:00 to 10:45
    {{ session|day }}      Tuesday 8 December 2026
"""

from django import template
from django.utils import dateformat, timezone
from django.utils.translation import gettext

register = template.Library()


def _local(value):
    return timezone.localtime(value) if timezone.is_aware(value) else value


@register.filter
def day(item) -> str:
    """'Tuesday 8 December 2026' (names in the active language)."""
    return dateformat.format(_local(item.start), "l j F Y")


@register.filter
def span(item) -> str:
    """'10:00 to 10:45'."""
    return gettext("%(start)s to %(end)s") % {
        "start": dateformat.format(_local(item.start), "H:i"),
        "end": dateformat.format(_local(item.end), "H:i"),
    }


@register.filter
def when(item) -> str:
    """'Tuesday 8 December 2026, 10:00 to 10:45'."""
    return gettext("%(day)s, %(span)s") % {"day": day(item), "span": span(item)}
