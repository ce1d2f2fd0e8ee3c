"""How a waitlist entry's days and parts of the day read on My appointments.

{% load booking_waitlist %}
{{ entry.weekdays|wait_days }}          Mondays, Wednesdays and Fridays
{{ entry.parts_of_day|wait_times }}     mornings and evenings
"""

from django import template
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..waitlist.models import AFTERNOON, ALL_DAY, EVENING, EVERY_DAY, MORNING

register = template.Library()

DAYS = [
    _("Mondays"),
    _("Tuesdays"),
    _("Wednesdays"),
    _("Thursdays"),
    _("Fridays"),
    _("Saturdays"),
    _("Sundays"),
]
WEEKDAYS, WEEKENDS = 0b0011111, 0b1100000
PARTS = [(MORNING, _("mornings")), (AFTERNOON, _("afternoons")), (EVENING, _("evenings"))]


def _listed(items: list) -> str:
    """["a"] -> "a"; ["a", "b", "c"] -> "a, b and c"."""
    items = [str(item) for item in items]
    if len(items) < 2:
        return "".join(items)
    return gettext("%(items)s and %(last)s") % {"items": ", ".join(items[:-1]), "last": items[-1]}


@register.filter
def wait_days(bits: int) -> str:
    if bits == EVERY_DAY:
        return gettext("any day")
    if bits == WEEKDAYS:
        return gettext("Monday to Friday")
    if bits == WEEKENDS:
        return gettext("weekends")
    return _listed([name for day, name in enumerate(DAYS) if bits & (1 << day)])


@register.filter
def wait_times(bits: int) -> str:
    if bits == ALL_DAY:
        return gettext("any time of day")
    return _listed([name for bit, name in PARTS if bits & bit])
