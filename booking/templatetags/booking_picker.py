"""The time picker's strip of days and its buttons, written in Python.

A day offers up to thirty times. Through the template language each button
cost an include, three lookups for its marks and a dozen variable lookups
(most of /book/time/'s rendering: `make bench`, the slot picker); here it is
one f-string; so is each day of the strip (a dozen lookups a day through the
template). The markup is exactly what the templates they replace wrote, kept as
references by tests/booking/test_picker_markup.py.
Every value comes from dates and integers, or is a fixed string, but for the
practitioner's name and the translated words around it, which are escaped.
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

from .. import times

register = template.Library()

_CURRENT = (
    '<li><span class="slot-button slot-current" aria-current="true">'
    '<span class="slot-time">{span}</span><span class="slot-who">{who}</span>'
    '<span class="slot-note">{note}</span></span></li>'
)
_BUTTON = (
    '<li><button type="submit" name="slot" value="{value}" class="btn btn-outline-primary '
    'slot-button{active}"{current} aria-label="{label}"><span class="slot-time">{span}</span> '
    '<span class="slot-who">{who}</span></button></li>'
)


@register.simple_tag
def picker_choices(choices, chosen_start=None, current=None):
    """The <li> of each of `choices` (booking.picker.Choice): a button, or the moving
    session's own time (`current`), marked and not a button; `chosen_start` is marked
    as chosen. "" (a page that sets neither) marks nothing."""
    words = times.Words()
    with_who, named = gettext("with %(who)s"), gettext("%(when)s with %(who)s")
    rows = []
    for choice in choices:
        span = words.span(choice)
        who = escape(with_who % {"who": choice.who})
        if (
            current
            and choice.start == current.start
            and choice.slot.practitioner_id == current.practitioner_id
        ):
            note = escape(gettext("Your time now"))
            rows.append(_CURRENT.format(span=escape(span), who=who, note=note))
            continue
        chosen = choice.start == chosen_start
        label = escape(named % {"when": words.when(choice), "who": choice.who})
        rows.append(
            _BUTTON.format(
                value=escape(choice.value),
                active=" active" if chosen else "",
                current=' aria-current="true"' if chosen else "",
                label=f"{label} {escape(gettext('(chosen)'))}" if chosen else label,
                span=escape(span),
                who=who,
            )
        )
    return mark_safe("\n".join(rows))  # noqa: S308


# The line breaks between the spans are the spaces that keep "Wed", "4 Feb" and "3 times"
# apart in the link's accessible name (and in any text a browser reads from it).
_DAY_LINK = (
    '<li>\n<a class="day-chip{selected}" href="{href}" hx-get="{href}" hx-target="#picker" '
    'hx-swap="outerHTML" hx-push-url="true"{current}>\n<span class="day-chip-weekday">{weekday}'
    '</span>\n<span class="day-chip-date">{day_month}</span>\n<span class="day-chip-count">'
    "{count}</span>\n{yours}</a>\n</li>"
)
_YOURS = '<span class="day-chip-yours">{}</span>\n'
_DAY_NONE = (
    '<li>\n<span class="day-chip is-empty{selected}"{current}>\n<span class="day-chip-weekday">'
    '{weekday}</span>\n<span class="day-chip-date">{day_month}</span>\n'
    '<span class="day-chip-count">{none}</span>\n</span>\n</li>'
)


@register.simple_tag
def picker_strip(strip, url, query="", current_day=None):
    """The <li> of each day of the strip (booking.picker.StripDay): a link to the day when
    it has free times or holds the moving session's own time (`current_day`), else a
    plain "none"."""
    rows = []
    for day in strip:
        marks = {
            "selected": " is-selected" if day.selected else "",
            "current": ' aria-current="date"' if day.selected else "",
            "weekday": escape(day.weekday),
            "day_month": escape(day.day_month),
        }
        is_yours = bool(current_day) and day.day == current_day
        if not (day.free or is_yours):
            rows.append(_DAY_NONE.format(none=escape(gettext("none")), **marks))
            continue
        count = day.free_text if day.free else gettext("no others")
        yours = _YOURS.format(escape(gettext("yours"))) if is_yours else ""
        rows.append(
            _DAY_LINK.format(
                href=escape(f"{url}?day={day.iso}{query}"),
                count=escape(count),
                yours=yours,
                **marks,
            )
        )
    return mark_safe("\n".join(rows))  # noqa: S308
