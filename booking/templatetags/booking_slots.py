"""The week view's slot buttons, written in Python.

A week can offer a hundred times. Through the template language each button
cost three date filters and as many lookups (about 40 µs a button, most of
the week view's rendering); here it is one strftime and one format_html.
The markup is exactly what the template wrote (tests/booking/test_week_view.py).
"""

from django import template
from django.utils import timezone
from django.utils.dates import MONTHS, WEEKDAYS
from django.utils.html import format_html_join
from django.utils.safestring import mark_safe

register = template.Library()

_CURRENT = mark_safe(' aria-current="true"')
_CHOSEN = mark_safe('<span class="visually-hidden"> (chosen)</span>')

_BUTTON = (
    '<li><button type="submit" name="slot" value="{}|{}" class="btn btn-outline-primary '
    'slot-button{}" aria-label="{}"{}>{}{}</button></li>'
)


def _label(moment) -> str:
    """'Tuesday 3 March 2026, 09:30': the date filter's 'l j F Y', then 'H:i'."""
    return (
        f"{WEEKDAYS[moment.weekday()]} {moment.day} {MONTHS[moment.month]} {moment.year}, "
        f"{moment:%H:%M}"
    )


@register.simple_tag
def slot_buttons(slots, chosen=None):
    """<li> buttons for one day's free times; the chosen one marked as current."""
    chosen_start = chosen.start if chosen else None
    rows = []
    for slot in slots:
        local = timezone.localtime(slot.start)
        is_chosen = slot.start == chosen_start
        rows.append(
            (
                slot.start.isoformat(),
                slot.practitioner_id,
                " active" if is_chosen else "",
                _label(local),
                _CURRENT if is_chosen else "",
                f"{local:%H:%M}",
                _CHOSEN if is_chosen else "",
            )
        )
    return format_html_join("\n", _BUTTON, rows)
