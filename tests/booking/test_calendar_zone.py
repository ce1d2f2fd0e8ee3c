"""The VTIMEZONE in every calendar file: onsets in the old offset (RFC 5545 3.6.5), and a
second parser (dateutil's tzical) reading the same instants as zoneinfo around each change."""

from datetime import UTC, date, datetime, timedelta
from io import StringIO
from zoneinfo import ZoneInfo

import pytest
from dateutil.tz import tzical
from icalendar import Calendar

from booking.calendar_zone import changes, vtimezone

YEARS = (date(2026, 1, 1), date(2027, 12, 31))


def observances(name: str) -> list[tuple[str, str, str, str]]:
    zone = vtimezone(name, *YEARS)
    return [
        (
            part.name,
            part.decoded("dtstart").strftime("%Y%m%dT%H%M%S"),
            part["tzoffsetfrom"].to_ical(),
            part["tzoffsetto"].to_ical(),
        )
        for part in zone.subcomponents
    ]


def test_london_changes_at_one_in_the_morning_gmt_and_two_bst():
    """Summer time starts at 01:00 GMT (written 01:00, in +0000) and ends at 02:00 BST."""
    assert observances("Europe/London") == [
        ("STANDARD", "20260101T000000", "+0100", "+0000"),  # FROM: the change before
        ("DAYLIGHT", "20260329T010000", "+0000", "+0100"),
        ("STANDARD", "20261025T020000", "+0100", "+0000"),
        ("DAYLIGHT", "20270328T010000", "+0000", "+0100"),
        ("STANDARD", "20271031T020000", "+0100", "+0000"),
    ]


def test_sydney_the_southern_hemisphere_the_other_way_round():
    """Daylight time ends at 03:00 AEDT in April and starts at 02:00 AEST in October."""
    assert observances("Australia/Sydney") == [
        ("DAYLIGHT", "20260101T000000", "+1000", "+1100"),
        ("STANDARD", "20260405T030000", "+1100", "+1000"),
        ("DAYLIGHT", "20261004T020000", "+1000", "+1100"),
        ("STANDARD", "20270404T030000", "+1100", "+1000"),
        ("DAYLIGHT", "20271003T020000", "+1000", "+1100"),
    ]


@pytest.mark.parametrize("name", ["Europe/London", "Australia/Sydney", "America/New_York"])
def test_a_second_parser_reads_every_instant_around_each_change_as_zoneinfo_does(name):
    text = Calendar.from_ical(
        b"BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:test\r\n"
        + vtimezone(name, *YEARS).to_ical()
        + b"END:VCALENDAR\r\n"
    )
    parsed = tzical(StringIO(text.walk("VTIMEZONE")[0].to_ical().decode())).get()
    zone = ZoneInfo(name)
    start = datetime(2026, 1, 1, tzinfo=UTC)
    found = changes(zone, start, datetime(2028, 1, 1, tzinfo=UTC))
    assert len(found) == 4
    for change in found:
        for minutes in range(-180, 181, 15):
            instant = change.at + timedelta(minutes=minutes)
            assert instant.astimezone(parsed).utcoffset() == instant.astimezone(zone).utcoffset()
            local = instant.astimezone(zone)
            # Wall time back to the instant, the hour that happens twice included (fold).
            assert local.replace(tzinfo=parsed, fold=local.fold).astimezone(UTC) == instant


def test_changes_are_found_to_the_second():
    zone = ZoneInfo("Europe/London")
    found = changes(zone, datetime(2026, 1, 1, tzinfo=UTC), datetime(2027, 1, 1, tzinfo=UTC))
    assert [c.at for c in found] == [
        datetime(2026, 3, 29, 1, tzinfo=UTC),
        datetime(2026, 10, 25, 1, tzinfo=UTC),
    ]
    assert [(c.name, c.daylight) for c in found] == [("BST", True), ("GMT", False)]
