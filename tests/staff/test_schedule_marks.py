"""The schedule's marks: practitioners' colours (stable, readable) with their initials, and
each session status in words with a symbol, on the day and week views and in their key."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from booking.models import Session
from booking.schedule_marks import (
    ON_STRONG,
    PALETTE,
    SYMBOLS,
    TEXT,
    colours_by_practitioner,
    contrast_ratio,
    initials,
    status_mark,
    status_marks,
)
from tests.booking.factories import PatientFactory, PractitionerFactory, SessionFactory
from tests.helpers import at
from tests.staff.test_schedule import find, page, text

DAY = reverse("admin:booking_schedule_day")
WEEK = reverse("admin:booking_schedule_week")
STYLESHEET = settings.BASE_DIR / "static" / "css" / "admin-schedule.css"
WHO_CLASS = re.compile(
    r"\.who-(\d+)\s*\{\s*--who-tint:\s*(#[0-9a-f]{6});\s*--who-strong:\s*(#[0-9a-f]{6});\s*\}"
)


# --- colours ---------------------------------------------------------------------


def test_contrast_ratio_is_wcags():
    assert contrast_ratio("#000000", "#ffffff") == pytest.approx(21)
    assert contrast_ratio("#ffffff", "#000000") == pytest.approx(21)
    assert contrast_ratio("#777777", "#777777") == pytest.approx(1)
    assert contrast_ratio("#767676", "#ffffff") == pytest.approx(4.54, abs=0.01)  # AA's edge


@pytest.mark.parametrize("colour", PALETTE, ids=lambda c: c.tint)
def test_every_colour_keeps_its_text_readable_at_wcag_aa(colour):
    assert contrast_ratio(TEXT, colour.tint) >= 4.5  # a session's words on its tint
    assert contrast_ratio(TEXT, "#ffffff") >= 4.5  # a cancelled session's, on white
    assert contrast_ratio(ON_STRONG, colour.strong) >= 4.5  # the initials on their badge
    assert contrast_ratio(colour.strong, colour.tint) >= 3  # the edge against the tint


def test_the_stylesheet_holds_the_palette_as_written():
    css = STYLESHEET.read_text()
    found = {int(n): (tint, strong) for n, tint, strong in WHO_CLASS.findall(css)}
    assert found == {n: (c.tint, c.strong) for n, c in enumerate(PALETTE)}
    assert "#1f2937" in css and TEXT == "#1f2937"


def test_colours_follow_the_order_practitioners_were_added():
    colours = colours_by_practitioner([12, 3, 7])
    assert colours == {3: 0, 7: 1, 12: 2}
    assert colours_by_practitioner([7, 12, 3]) == colours  # whatever order they come in
    assert colours_by_practitioner([3, 7, 12, 20]) == {**colours, 20: 3}  # a newcomer: the next
    eight = colours_by_practitioner(range(1, 9))
    assert sorted(eight.values()) == list(range(8))  # the first eight never share one
    assert colours_by_practitioner(range(1, 10))[9] == 0  # the ninth repeats the first


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("Dr Priya Demo (demo)", "PD"),
        ("Jamie Example (demo)", "JE"),
        ("Alex", "A"),
        ("Mrs. Ann Marie Lee", "AL"),
        ("Dr", "D"),
        ("(demo)", "?"),
        ("Practitioner 4", "P"),
    ],
)
def test_initials(name, expected):
    assert initials(name) == expected


# --- statuses -----------------------------------------------------------------------


def test_every_status_has_its_word_and_a_symbol_in_the_models_order():
    marks = status_marks()
    assert [m.value for m in marks] == Session.Status.values
    assert [m.label for m in marks] == [str(label) for label in Session.Status.labels]
    assert [m.label for m in marks] == [
        "Booked",
        "Arrived",
        "Attended",
        "No-show",
        "Cancelled",
        "Held",  # for a waitlist offer, or while a deposit is paid (the schedule says which)
    ]
    assert all(m.symbol for m in marks)
    assert set(SYMBOLS) <= set(Session.Status)  # no line for a status that is gone
    assert len(set(SYMBOLS.values())) == len(SYMBOLS)  # each tells its status apart
    assert status_mark("no_show").symbol == "✗"
    assert status_mark("held").symbol == "◔"


# --- on the pages -------------------------------------------------------------------


@pytest.fixture
def second(treatment):
    return PractitionerFactory(treatments=[treatment], display_name="Dr Second Person")


def colour_classes(node) -> set[str]:
    classes = (dict(node.attributes).get("class") or "").split()
    return {c for c in classes if c.startswith("who-") and c != "who-badge"}


def test_each_practitioner_has_one_colour_whoever_looks_and_whatever_the_filter(
    client_for, reception, clinician, second, treatment, now
):
    own = clinician.practitioner
    for who in (own, second):
        SessionFactory(course__practitioner=who, course__treatment=treatment, start=at(6, 1, 10))

    def session_colours(client, **params) -> dict[str, set[str]]:
        found = {}
        for url in (DAY, WEEK):
            for div in find(page(client, url, date="2026-06-01", **params), "div", "session"):
                badge = next(find(div, "span", "visually-hidden"))
                found.setdefault(text(badge), set()).update(colour_classes(div))
        return found

    everyone = session_colours(client_for(reception))
    assert everyone == {"Dr Own": {"who-0"}, "Dr Second Person": {"who-1"}}
    assert session_colours(client_for(reception), practitioner=second.pk) == {
        "Dr Second Person": {"who-1"}
    }
    assert session_colours(client_for(clinician)) == {"Dr Own": {"who-0"}}


def test_a_session_shows_its_practitioners_initials_and_its_status_in_words(
    client_for, reception, practitioner, treatment, now
):
    kinds = {"attended": "✓ Attended", "no_show": "✗ No-show", "cancelled": "⊘ Cancelled"}
    for n, kind in enumerate(kinds):
        SessionFactory(
            course__patient=PatientFactory(full_name=f"Patient {kind}"),
            course__practitioner=practitioner,
            course__treatment=treatment,
            start=at(5, 25 + n, 10),
            **{kind: True},
        )
    html = page(client_for(reception), WEEK, date="2026-05-25", cancelled="1")

    shown = []
    for div in find(html, "div", "session"):
        (badge,) = find(div, "span", "who-badge")
        assert text(badge) == "P"  # "Practitioner N"; its name beside, for screen readers
        assert f"P {practitioner.display_name}" in text(div)
        (status,) = find(div, "span", "status")
        shown.append(text(status))
    assert sorted(shown) == sorted(kinds.values())


def test_the_day_and_week_views_have_a_key(client_for, reception, practitioner, second, now):
    for url in (DAY, WEEK):
        html = page(client_for(reception), url, date="2026-06-01")
        (key,) = find(html, "section", "schedule-key")
        words = text(key)
        assert words.startswith("Key Practitioners")
        assert f"P {practitioner.display_name}" in words and "SP Dr Second Person" in words
        assert "Session status ○ Booked ➜ Arrived ✓ Attended ✗ No-show ⊘ Cancelled" in words
        for label in ("Free", "Break", "Time off", "Clinic closed", "Not working"):
            assert label in words
