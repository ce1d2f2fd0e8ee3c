"""The week view's grid of days and slot buttons, written in Python.

A week can offer a hundred times. Through the template language each button
cost three date filters and as many lookups (about 40 µs a button, most of
the week view's rendering), and each day three more date filters; here a
button is one strftime and a day one heading. Every value written is made
here from dates and integers, or is a fixed string (its translation looked
up once a call), so nothing needs escaping, but for practitioners' names,
which are escaped. The markup is
exactly what the template wrote (tests/booking/test_week_view.py keeps that
template as the reference).
"""

from django import template
from django.utils import timezone
from django.utils.dates import MONTHS, MONTHS_3, WEEKDAYS
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

register = template.Library()

_CURRENT = ' aria-current="true"'
_CHOSEN = '<span class="visually-hidden"> {}</span>'

_BUTTON = (
    '<li><button type="submit" name="slot" value="{}|{}" class="btn btn-outline-primary '
    'slot-button{}" aria-label="{}"{}>{}{}</button></li>'
)
_DAY = '<section aria-labelledby="day-{id}">\n<h3 class="h6" id="day-{id}">{label}</h3>\n'
_SLOTS = '<ul class="list-unstyled slot-list">\n{}\n</ul>\n</section>\n'
_NONE = '<p class="text-body-secondary small">{}</p>\n</section>\n'


def _long_date(day) -> str:
    """'Tuesday 3 March 2026': the date filter's 'l j F Y' (names in the active language)."""
    return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month]} {day.year}"


def _buttons(slots, chosen_start, names=None) -> str:
    """`names` (practitioner id -> name): say whom each time is with (a page offering
    several practitioners' times)."""
    rows = []
    chosen_text = _CHOSEN.format(gettext("(chosen)"))
    with_name = gettext("with %(name)s")
    long_dates = {}  # a day's slots share it: translated names looked up once a day
    for slot in slots:
        local = timezone.localtime(slot.start)
        is_chosen = slot.start == chosen_start
        day = local.date()
        if day not in long_dates:
            long_dates[day] = _long_date(day)
        who = " " + with_name % {"name": escape(names[slot.practitioner_id])} if names else ""
        rows.append(
            _BUTTON.format(
                slot.start.isoformat(),
                int(slot.practitioner_id),
                " active" if is_chosen else "",
                f"{long_dates[day]}, {local:%H:%M}{who}",
                _CURRENT if is_chosen else "",
                f"{local:%H:%M}{who}",
                chosen_text if is_chosen else "",
            )
        )
    return "\n".join(rows)


@register.simple_tag
def week_grid(days, chosen=None, outside=(), names=None):
    """A <section> per day of `days` ((date, [slot, ...]), ...): its heading and free times.

    A day in `outside` (outside the session's window) says so instead of "No free times".
    With `names`, each time names its practitioner (escaped: names are typed by staff).
    """
    chosen_start = chosen.start if chosen else None
    parts = []
    outside_text, none_text = gettext("Outside this session's window"), gettext("No free times")
    for day, slots in days:
        parts.append(
            _DAY.format(
                id=f"{day:%Y%m%d}",
                label=f"{WEEKDAYS[day.weekday()]} {day.day} {str(MONTHS_3[day.month]).title()}",
            )
        )
        if slots:
            parts.append(_SLOTS.format(_buttons(slots, chosen_start, names)))
        elif outside and day in outside:
            parts.append(_NONE.format(outside_text))
        else:
            parts.append(_NONE.format(none_text))
    return mark_safe("".join(parts))  # noqa: S308
