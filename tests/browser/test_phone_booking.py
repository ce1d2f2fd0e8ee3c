"""Booking and moving on a phone (390x844) and on a desktop (1366x900), with the demo data.

A new patient answers "Is it right for me?", reviews those answers in booking
instead of answering again, books a course through the time picker (a strip of days, then
one day's times by part of the day) and changes a later session; the demo
patient moves a session and confirms the move on the page that shows old and
new side by side. On the phone no step is taller than 2,500 CSS px; every
step passes axe (WCAG 2.2 AA) at both sizes and leaves a full-page screenshot,
var/test-artifacts/screens/<size>-<step>.png, for whoever looks at them, and the
heights in <size>-heights.json.
"""

import json
import re

import pytest
from django.conf import settings
from django.core.management import call_command
from django.test import Client

from booking.models import BookingRules, Session
from tests.browser.axe import axe_report, axe_violations
from tests.browser.conftest import email_code_in_browser, other_origin_requests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}
TALLEST_PX = 2500


@pytest.fixture
def demo(transactional_db):
    call_command("seed_demo", "--quiet-logins")


class Steps:
    """Each step: its height, its screenshot, and axe's verdict."""

    def __init__(self, page, size):
        self.page, self.size, self.heights = page, size, {}
        self.folder = settings.TEST_ARTIFACTS_DIR / "screens"
        self.folder.mkdir(parents=True, exist_ok=True)

    def __call__(self, name: str) -> None:
        self.page.wait_for_load_state()
        self.heights[name] = self.page.evaluate("document.documentElement.scrollHeight")
        # caret="initial": hiding the caret injects a style the Content Security Policy refuses.
        shot = self.folder / f"{self.size}-{name}.png"
        self.page.screenshot(path=str(shot), full_page=True, caret="initial")
        violations = axe_violations(self.page)
        assert not violations, axe_report(violations, self.page.url)


def sign_in_as(page, email: str, url: str) -> None:
    from clinic.models import User

    client = Client()
    client.force_login(User.objects.get(email=email))
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": url}]
    )


@pytest.mark.parametrize("size", SIZES)
def test_booking_and_moving_with_the_demo_data(page, live_server, demo, size):
    page.set_viewport_size(SIZES[size])
    step = Steps(page, size)

    # A new patient checks "Is it right for me?", then books a course of 3 with those answers.
    page.goto("/treatments/microneedling/suitability/")
    for group in page.get_by_role("group").all():
        group.get_by_label("No", exact=True).check()
    page.get_by_role("button", name="See my result").click()
    page.get_by_role("button", name="Book a course").click()
    page.get_by_role("button", name="Next").click()  # 3 sessions, the usual
    page.get_by_role("heading", name="Check your health answers").wait_for()
    step("0-health-answers")
    page.get_by_role("button", name="These are right: next").click()
    page.get_by_role("button", name="Next").click()  # anyone
    page.get_by_role("heading", name="Choose a time for your first session").wait_for()
    step("1-time")
    first_day = page.locator("#picker-day").inner_text()
    chips = page.locator(".day-strip a.day-chip:not([aria-current])")
    # Another day with times, swapped in by htmx (the first after the day shown: how many
    # days of the strip have times depends on the hour the demo is seeded at).
    chips.first.click()
    page.locator("#picker-day").filter(has_not_text=first_day).wait_for()
    page.locator("details.more-times > summary").first.click()
    step("2-time-another-day-more-times")
    page.locator("#picker button.slot-button:visible").nth(7).click()
    page.get_by_role("heading", name="Your course of 3 sessions").wait_for()
    step("3-plan")
    page.get_by_role("link", name="Change session 2").click()
    page.get_by_role("heading", name="Change session 2").wait_for()
    step("4-plan-session")
    chosen = page.locator("#picker .slot-button.active")
    assert chosen.count() == 1 and "(chosen)" in chosen.get_attribute("aria-label")
    page.locator("#picker button.slot-button:not(.active):visible").first.click()
    page.get_by_role("heading", name="Your course of 3 sessions").wait_for()
    page.get_by_role("link", name="Next", exact=True).click()
    email_code_in_browser(page, f"phone.{size}@example.org")
    page.get_by_label("Full name").fill("Pat Phone")
    page.get_by_label("Phone").fill("07700 900888")
    page.get_by_label("Choose a password").fill("a-long-Patient-passphrase-42")
    page.get_by_role("button", name="Next").click()
    risks = page.get_by_role("region", name="Microneedling: side effects and risks")
    assert "Serious problems are rare" in risks.inner_text()  # shown in place, not linked
    step("4b-consent")
    page.get_by_label("I have read and agree").check()
    page.get_by_role("button", name="Next").click()
    page.get_by_role("heading", name="Check and confirm").wait_for()
    rules = page.get_by_role("region", name="Moving or cancelling a session")
    hours = BookingRules.current().change_notice_hours
    assert f"up to {hours} hours before it starts" in rules.inner_text()
    step("5-confirm")
    page.get_by_role("button", name="Confirm booking").click()
    page.get_by_role("heading", name="You are booked in").wait_for()
    step("6-done")

    # The demo patient moves session 2 of their course, half way through.
    sign_in_as(page, "patient@example.com", live_server.url)
    page.goto("/appointments/")
    step("7-appointments")
    page.get_by_role("link", name="Move session 2").first.click()
    page.get_by_role("heading", name="Move session 2").wait_for()
    step("8-move")
    yours = page.locator(".day-strip a", has_text="yours")  # the day of its time, marked
    if yours.count():
        yours.click()
        page.locator(".slot-current").wait_for()  # and the time itself
        page.get_by_role("link", name=re.compile("^Later days")).click()
        page.locator(".slot-current").wait_for(state="detached")
    page.locator("#picker button.slot-button:visible").first.click()
    page.get_by_role("heading", name="Check the move of session 2").wait_for()
    step("9-move-confirm")
    session = Session.objects.get(patient__user__email="patient@example.com", number=2)
    page.get_by_role("button", name=re.compile("^Confirm: move session 2")).click()
    page.get_by_role("heading", name="My appointments").wait_for()
    assert "Session 2 is moved." in page.get_by_role("status").first.inner_text()
    moved = Session.objects.get(pk=session.pk)
    assert moved.start != session.start and moved.sequence == session.sequence + 1

    (step.folder / f"{size}-heights.json").write_text(json.dumps(step.heights, indent=1))
    if size == "phone":
        too_tall = {name: px for name, px in step.heights.items() if px > TALLEST_PX}
        assert not too_tall, f"taller than {TALLEST_PX} px on a 390 px phone: {step.heights}"
    assert other_origin_requests(page, live_server.url) == []
    assert page.console_errors == []
