"""Reception's schedule in a real browser, on the demo data at 1366 px: the day and week
views coloured by practitioner with a key and statuses in words, a free gap that starts
a phone booking at its time and practitioner, and the printed day list with phone numbers.
Each view passes axe (the day in the dark theme too) and leaves a screenshot,
var/test-artifacts/screens/schedule-{day,print,week,phone-start}.png.
"""

import re
from datetime import timedelta

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from booking import selectors, services
from booking.models import BookingRules, Practitioner
from booking.schedule_marks import PALETTE
from clinic.demo import RECEPTION_LOGIN
from education.models import Treatment
from tests.browser.axe import axe_report, axe_violations
from tests.browser.conftest import other_origin_requests
from tests.browser.test_phone_booking import sign_in_as

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PRIYA = "Dr Priya Demo (demo)"


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--quiet-logins")


def priya_fits(day) -> set[str]:
    """The times on `day` a microneedling session fits with Dr Priya, as phone booking
    offers them (inside the minimum notice too)."""
    return {
        s.start.astimezone(selectors.clinic_zone()).strftime("%H:%M")
        for s in selectors.free_slots(
            treatment=Treatment.objects.get(slug="microneedling"),
            day_from=day,
            day_to=day,
            now=timezone.now(),
            practitioners=[Practitioner.objects.get(display_name=PRIYA)],
            rules=services.staff_rules(BookingRules.current()),
        )
    }


def next_weekday():
    """The first Tuesday-to-Friday day after today (the demo's busy week, all three at work:
    Alex works Tuesday to Saturday) with a gap where a session fits with Dr Priya."""
    day = timezone.localdate()
    for _ in range(6):
        day += timedelta(days=1)
        if day.weekday() in range(1, 5) and priya_fits(day):
            return day
    raise AssertionError("the demo's busy week has no day with a gap for Dr Priya")


def rgb(hex_colour: str) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({r}, {g}, {b})"


def shoot(page, name: str) -> None:
    folder = settings.TEST_ARTIFACTS_DIR / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    # caret="initial": hiding the caret injects a style the Content Security Policy refuses.
    page.screenshot(path=str(folder / f"schedule-{name}.png"), full_page=True, caret="initial")


def no_axe_violations(page) -> None:
    violations = axe_violations(page)
    assert not violations, axe_report(violations, page.url)


def test_reception_reads_books_from_and_prints_the_schedule(page, live_server, demo):
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in_as(page, RECEPTION_LOGIN, live_server.url)
    day = next_weekday()

    # The day: a column per practitioner, sessions in their colours, a key.
    page.goto(f"/admin/booking/scheduleentry/day/?date={day.isoformat()}")
    key = page.get_by_role("region", name="Key")
    for word in (PRIYA, "Jamie Example (demo)", "Booked", "Attended", "No-show", "Cancelled"):
        assert word in key.inner_text()
    sessions = page.locator(".schedule-grid .session")
    on_the_day = sessions.count()
    assert on_the_day >= 6  # the demo's busy week: two each
    tints = {rgb(c.tint) for c in PALETTE}
    booked = page.locator(".schedule-grid .session:not(.session--held)")  # a hold: no tint
    backgrounds = set(booked.evaluate_all("s => s.map(e => getComputedStyle(e).backgroundColor)"))
    assert backgrounds <= tints and len(backgrounds) == 3  # one colour per practitioner
    first = sessions.first.inner_text()
    assert re.search(r"Session \d of \d", first) and "Booked" in first
    assert page.locator(".schedule-grid .session .who-badge").first.inner_text() in {
        "PD",
        "JE",
        "AP",
    }
    no_axe_violations(page)
    shoot(page, "day")
    page.emulate_media(color_scheme="dark")  # the admin's dark theme follows the system's
    page.reload()  # loaded dark: no link caught half way through its colour transition
    no_axe_violations(page)
    page.emulate_media(color_scheme="light")

    # Printed: the day list alone, with phone numbers and "Session k of n".
    page.emulate_media(media="print")
    listed = page.get_by_role("region", name=re.compile("^Day list"))
    assert listed.is_visible() and not page.locator(".schedule-grid").is_visible()
    printed = listed.inner_text()
    assert re.search(r"07700 900\d{3}", printed)
    assert re.search(r"Session \d of 3", printed)
    assert re.search(r"\b\d\d:\d\d–\d\d:\d\d\b", printed) and "Booked" in printed
    shoot(page, "print")
    page.emulate_media(media="screen")

    # The week: the same colours and words.
    page.get_by_role("link", name="Week view").click()
    page.get_by_role("heading", name=re.compile("^Schedule: week of")).wait_for()
    assert PRIYA in page.get_by_role("region", name="Key").inner_text()
    week = page.locator(".schedule-week .session")
    assert week.count() >= on_the_day
    # A held time (the demo's waitlist offer, when it falls in this week) has no tint of its own.
    booked = page.locator(".schedule-week .session:not(.session--held)")
    assert set(booked.evaluate_all("s => s.map(e => getComputedStyle(e).backgroundColor)")) <= tints
    assert "Booked" in week.first.inner_text()
    no_axe_violations(page)
    shoot(page, "week")

    # A free gap with Dr Priya, at a time a course of microneedling fits (as phone booking
    # offers times, inside the minimum notice too): book it by phone.
    priya = Practitioner.objects.get(display_name=PRIYA)
    microneedling = Treatment.objects.get(slug="microneedling")
    fits = priya_fits(day)
    page.get_by_role("link", name="Day view").click()
    gaps = page.get_by_role("link", name=re.compile(rf"^Book \d\d:\d\d with {re.escape(PRIYA)}$"))
    names = [name.split()[1] for name in gaps.all_inner_texts()]
    time = next((t for t in names if t in fits), None)
    assert time, (names, sorted(fits), day)
    page.get_by_role("link", name=f"Book {time} with {PRIYA}", exact=True).click()
    chosen = page.get_by_role("heading", name="Time chosen on the schedule").locator("..")
    assert f"{time}, {day:%A} {day.day} {day:%B %Y}, with {PRIYA}" in chosen.inner_text()
    shoot(page, "phone-start")
    page.get_by_label("Name, email or phone").fill("Robin")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("button", name="Book for this patient (Robin Demo-Patient)").click()
    assert page.get_by_label("Practitioner").input_value() == str(priya.pk)
    assert page.get_by_label("Day of the first session").input_value() == day.isoformat()
    page.get_by_label("Treatment").select_option(label=microneedling.name)
    page.get_by_role("button", name="Show free times").click()
    marked = page.get_by_role("button", name=re.compile(r"\(chosen on the schedule\)$"))
    assert marked.inner_text().startswith(f"{time}, ")

    assert other_origin_requests(page, live_server.url) == []
    assert page.console_errors == []
