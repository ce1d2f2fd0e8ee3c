"""The time picker's buttons, written in Python.

A day offers up to thirty times. Through the template language each button
cost an include, three lookups for its marks and a dozen variable lookups
(most of /book/time/'s rendering: `make bench`, the slot picker); here it is
one f-string. The markup is exactly what templates/booking/includes/picker_choice.html
writes, which tests/booking/test_picker_markup.py keeps as the reference.
Every value comes from dates and integers, or is a fixed string, but for the
practitioner's name and the translated words around it, which are escaped.
"""

from django import template
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext

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
    as chosen."""
    rows = []
    chosen_text = None
    for choice in choices:
        span, who = escape(choice.span), escape(choice.with_who)
        if (
            current  # "" when the page has none
            and choice.start == current.start
            and choice.slot.practitioner_id == current.practitioner_id
        ):
            rows.append(_CURRENT.format(span=span, who=who, note=escape(gettext("Your time now"))))
            continue
        chosen = choice.start == chosen_start
        label = escape(choice.label)
        if chosen:
            chosen_text = chosen_text or escape(gettext("(chosen)"))
            label = f"{label} {chosen_text}"
        rows.append(
            _BUTTON.format(
                value=escape(choice.value),
                active=" active" if chosen else "",
                current=' aria-current="true"' if chosen else "",
                label=label,
                span=span,
                who=who,
            )
        )
    return mark_safe("\n".join(rows))  # noqa: S308
