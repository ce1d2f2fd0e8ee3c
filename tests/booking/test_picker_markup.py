"""The picker's buttons as the template wrote them (booking/templatetags/booking_picker.py).

tests/booking/picker_choice_reference.html is the template each button had
before the tag, kept as the reference: the tag must write the same markup.
"""

import re
from datetime import date, datetime, time, timedelta
from pathlib import Path

import pytest
from django.template import Context, Template

from booking.availability import Slot
from booking.picker import Choice, StripDay
from booking.templatetags.booking_picker import picker_choices, picker_strip
from tests.helpers import LONDON

REFERENCE = Template(
    "{% for choice in choices %}"
    + (Path(__file__).parent / "picker_choice_reference.html").read_text()
    + "{% endfor %}"
)


def _markup(html) -> str:
    """The same HTML whatever the kind and number of spaces: where the template had
    any, the tag must have some (a space between two spans is one in the text read)."""
    return re.sub(r"\s+", " ", str(html)).strip()


def choices(day: date, *hours: int, who: str = "Dr A") -> list[Choice]:
    starts = [datetime.combine(day, time(h), tzinfo=LONDON) for h in hours]
    return [Choice(Slot(s, s + timedelta(minutes=75), 1), who) for s in starts]


# The day the clocks go back: 01:00 comes twice, the times still read as the wall clock.
DAYS = [date(2026, 6, 1), date(2026, 10, 25), date(2027, 3, 28)]


@pytest.mark.parametrize("day", DAYS)
@pytest.mark.parametrize("marks", ["none", "chosen", "current"])
def test_the_tag_writes_what_the_template_wrote(day, marks):
    offered = choices(day, 9, 10, 11, 14, who="Dr O'Hara <b>")  # a name to escape
    chosen = offered[1].start if marks == "chosen" else None
    current = offered[2].slot if marks == "current" else None
    expected = REFERENCE.render(
        Context({"choices": offered, "chosen_start": chosen, "current": current})
    )
    assert _markup(picker_choices(offered, chosen, current)) == _markup(expected)
    assert "<b>" not in str(picker_choices(offered, chosen, current))


def test_a_page_without_marks_passes_empty_strings():
    """A template variable a page does not set arrives as "": nothing is marked."""
    offered = choices(DAYS[0], 9)
    assert "aria-current" not in str(picker_choices(offered, "", ""))


STRIP_REFERENCE = Template(
    "{% for strip_day in strip %}"
    + (Path(__file__).parent / "picker_strip_reference.html").read_text()
    + "{% endfor %}"
)


@pytest.mark.parametrize("query", ["", "&with=any"])
@pytest.mark.parametrize("yours", [None, date(2026, 6, 3), date(2026, 6, 4)])
def test_the_strip_tag_writes_what_the_template_wrote(query, yours):
    strip = [
        StripDay(date(2026, 6, 1), 12, False),
        StripDay(date(2026, 6, 2), 1, True),
        StripDay(date(2026, 6, 3), 0, False),  # none, unless the session's own day
        StripDay(date(2026, 6, 4), 0, True),  # asked for, none
    ]
    url = "/appointments/sessions/7/move/"
    expected = STRIP_REFERENCE.render(
        Context({"strip": strip, "picker_url": url, "picker_query": query, "current_day": yours})
    )
    assert _markup(picker_strip(strip, url, query, yours)) == _markup(expected)
    assert _markup(picker_strip(strip, url, query, yours or "")) == _markup(expected)
