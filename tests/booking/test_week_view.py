"""The week view's slot buttons (booking/templatetags/booking_slots.py)."""

from datetime import UTC, datetime, timedelta

import pytest
from django.template import Context, Template

from booking.availability import Slot
from booking.templatetags.booking_slots import slot_buttons

# What the template wrote for each button before the tag, kept here as the reference.
REFERENCE = Template(
    "{% for slot in slots %}"
    '<li><button type="submit" name="slot" value="{{ slot.start.isoformat }}|'
    '{{ slot.practitioner_id }}" class="btn btn-outline-primary slot-button'
    '{% if chosen and chosen.start == slot.start %} active{% endif %}" '
    "aria-label=\"{{ slot.start|date:'l j F Y' }}, {{ slot.start|time:'H:i' }}\""
    '{% if chosen and chosen.start == slot.start %} aria-current="true"{% endif %}>'
    '{{ slot.start|time:"H:i" }}{% if chosen and chosen.start == slot.start %}'
    '<span class="visually-hidden"> (chosen)</span>{% endif %}</button></li>'
    "{% if not forloop.last %}\n{% endif %}{% endfor %}"
)


def _slots(*starts):
    return [Slot(s, s + timedelta(minutes=45), n + 1) for n, s in enumerate(starts)]


@pytest.mark.parametrize(
    "starts",
    [
        # 28 March 2026 in GMT, 29 March (the clocks go forward) in BST, winter and summer days.
        (datetime(2026, 3, 28, 9, 0, tzinfo=UTC), datetime(2026, 3, 29, 8, 30, tzinfo=UTC)),
        (datetime(2026, 10, 25, 0, 15, tzinfo=UTC), datetime(2026, 10, 25, 1, 15, tzinfo=UTC)),
        (datetime(2026, 1, 5, 16, 45, tzinfo=UTC),),
        (),
    ],
)
@pytest.mark.parametrize("chosen_index", [None, 0])
def test_buttons_match_the_template_they_replace(starts, chosen_index, settings):
    settings.TIME_ZONE = "Europe/London"
    slots = _slots(*starts)
    chosen = slots[chosen_index] if chosen_index is not None and slots else None
    expected = REFERENCE.render(Context({"slots": slots, "chosen": chosen}))
    assert str(slot_buttons(slots, chosen)) == expected


def test_the_week_page_labels_each_button_with_day_and_time(settings):
    settings.TIME_ZONE = "Europe/London"
    slot = _slots(datetime(2026, 7, 1, 8, 0, tzinfo=UTC))[0]  # 09:00 BST
    html = str(slot_buttons([slot], None))
    assert 'aria-label="Wednesday 1 July 2026, 09:00"' in html
    assert ">09:00</button>" in html and "aria-current" not in html
