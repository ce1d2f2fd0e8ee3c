"""The week view's grid of days and slot buttons (booking/templatetags/booking_slots.py)."""

import re
from datetime import UTC, date, datetime, timedelta

import pytest
from django.template import Context, Template
from django.utils import timezone

from booking.availability import Slot
from booking.templatetags.booking_slots import week_grid

# What the template wrote for the week before the tag, kept here as the reference.
REFERENCE = Template(
    "{% for day, slots in days %}"
    "<section aria-labelledby=\"day-{{ day|date:'Ymd' }}\">"
    '<h3 class="h6" id="day-{{ day|date:\'Ymd\' }}">{{ day|date:"l j M" }}</h3>'
    "{% if slots %}"
    '<ul class="list-unstyled slot-list">'
    "{% for slot in slots %}"
    '<li><button type="submit" name="slot" value="{{ slot.start.isoformat }}|'
    '{{ slot.practitioner_id }}" class="btn btn-outline-primary slot-button'
    '{% if chosen and chosen.start == slot.start %} active{% endif %}" '
    "aria-label=\"{{ slot.start|date:'l j F Y' }}, {{ slot.start|time:'H:i' }}\""
    '{% if chosen and chosen.start == slot.start %} aria-current="true"{% endif %}>'
    '{{ slot.start|time:"H:i" }}{% if chosen and chosen.start == slot.start %}'
    '<span class="visually-hidden"> (chosen)</span>{% endif %}</button></li>'
    "{% endfor %}"
    "</ul>"
    "{% else %}"
    '<p class="text-body-secondary small">{% if outside and day in outside %}'
    "Outside this session's window{% else %}No free times{% endif %}</p>"
    "{% endif %}"
    "</section>"
    "{% endfor %}"
)


def _markup(html) -> str:
    """The same HTML whatever the line breaks between its tags."""
    return re.sub(r">\s+<", "><", str(html)).strip()


def _slots(*starts):
    return [Slot(s, s + timedelta(minutes=45), n + 1) for n, s in enumerate(starts)]


def _week(monday: date, slots) -> list:
    days = {monday + timedelta(days=n): [] for n in range(7)}
    for slot in slots:
        days[timezone.localtime(slot.start).date()].append(slot)
    return list(days.items())


WEEKS = [
    # The week the clocks go forward (Sunday 29 March 2026): Saturday in GMT, Sunday in BST.
    (
        date(2026, 3, 23),
        (datetime(2026, 3, 28, 9, 0, tzinfo=UTC), datetime(2026, 3, 29, 8, 30, tzinfo=UTC)),
    ),
    # The week they go back (Sunday 25 October 2026): 01:15 BST, then 01:15 GMT.
    (
        date(2026, 10, 19),
        (datetime(2026, 10, 25, 0, 15, tzinfo=UTC), datetime(2026, 10, 25, 1, 15, tzinfo=UTC)),
    ),
    (date(2026, 1, 5), (datetime(2026, 1, 5, 16, 45, tzinfo=UTC),)),
    (date(2026, 6, 1), ()),
]


@pytest.mark.parametrize(("monday", "starts"), WEEKS)
@pytest.mark.parametrize("chosen_index", [None, 0])
@pytest.mark.parametrize("outside_days", [0, 3])
def test_grid_matches_the_template_it_replaces(
    monday, starts, chosen_index, outside_days, settings
):
    settings.TIME_ZONE = "Europe/London"
    slots = _slots(*starts)
    days = _week(monday, slots)
    chosen = slots[chosen_index] if chosen_index is not None and slots else None
    outside = {day for day, _slots in days[:outside_days]}
    days = [(day, [] if day in outside else found) for day, found in days]  # as the move view
    context = {"days": days, "chosen": chosen, "outside": outside}
    expected = REFERENCE.render(Context(context))
    assert _markup(week_grid(days, chosen, outside)) == _markup(expected)


def test_each_button_is_labelled_with_day_and_time_and_each_day_has_a_heading(settings):
    settings.TIME_ZONE = "Europe/London"
    slot = _slots(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))[0]  # 09:00 BST
    html = str(week_grid(_week(date(2026, 6, 29), [slot])))
    assert 'aria-label="Wednesday 1 July 2026, 09:00"' in html
    assert ">09:00</button>" in html and "aria-current" not in html
    assert '<h3 class="h6" id="day-20260701">Wednesday 1 Jul</h3>' in html
    assert html.count("No free times") == 6
    assert "Outside this session" not in html  # no window given (the first session's page)


def test_a_day_with_nothing_free_says_so_whatever_outside_is(settings):
    settings.TIME_ZONE = "Europe/London"
    days = _week(date(2026, 6, 29), [])
    for outside in ("", None, set()):  # the first session's page passes no window at all
        assert str(week_grid(days, None, outside)).count("No free times") == 7
