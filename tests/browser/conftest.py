"""A real Chromium (Debian's, never a downloaded build) driven by Playwright.

Every request the page makes is recorded; tests assert they all stay on the
site's own origin. A failing test leaves a screenshot and the page's HTML
under var/test-artifacts/ for whoever reads the CI log.
"""

import os
from urllib.parse import urlsplit

import pytest
from django.conf import settings

from tests.conftest import CHROMIUM

# The local Stripe (tests/payments/fake_stripe.py), for the deposit journey and the email walk:
# its checkout page is the one other origin a browser test may reach (test_deposit_journey.py).
from tests.payments.conftest import fake_stripe, fake_stripe_live, fake_stripe_server  # noqa: F401

CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="session")
def chromium():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"needs Chromium at {CHROMIUM}")  # turned into a failure by the marker rule
    from playwright.sync_api import sync_playwright

    # Playwright's sync API runs an event loop in this thread; the ORM calls the
    # tests make around it are still synchronous and safe. Only while it runs.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
            yield browser
            browser.close()
    finally:
        del os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"]


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item, call):
    report = yield
    if report.when == "call":
        item.stash.setdefault("failed", report.failed)
    return report


@pytest.fixture
def page(request, chromium, live_server):
    viewport = {"width": 1280, "height": 900}
    context = chromium.new_context(base_url=live_server.url, viewport=viewport)
    page = context.new_page()
    page.requests_seen = []
    page.console_errors = []
    page.on("request", lambda req: page.requests_seen.append(req.url))
    page.on("console", lambda msg: msg.type == "error" and page.console_errors.append(msg.text))
    yield page
    save_if_failed(request, page)
    context.close()


def save_if_failed(request, page) -> None:
    """A failed test leaves its page's screenshot and HTML under var/test-artifacts/."""
    if request.node.stash.get("failed", False):
        folder = settings.TEST_ARTIFACTS_DIR
        folder.mkdir(parents=True, exist_ok=True)
        name = request.node.name.replace("/", "_")
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True)
        (folder / f"{name}.html").write_text(page.content())


def other_origin_requests(page, origin: str) -> list[str]:
    """Requests that left the site (data: URLs stay in the page)."""
    own = urlsplit(origin)
    return [
        url
        for url in page.requests_seen
        if not url.startswith("data:") and urlsplit(url)[:2] != own[:2]
    ]


def email_code_in_browser(page, email: str) -> None:
    """The journey's details step: type the address, then the code emailed to it (locmem)."""
    from tests.booking.conftest import emailed_code

    page.get_by_label("Your email address").fill(email)
    page.get_by_role("button", name="Email me a code").click()
    page.get_by_label("The 6-digit code from the email").fill(emailed_code(email))
    page.get_by_role("button", name="Check the code").click()
    page.get_by_role("heading", name="Your details").wait_for()


def show_day(page, label: str, most: int = 8) -> None:
    """In the time picker, show the day whose strip entry reads `label` (e.g. "4 Feb"),
    going to later days until the strip holds it; waits for that day's heading."""
    for _ in range(most):
        chip = page.locator(".day-strip .day-chip", has_text=label)
        if chip.count():
            if chip.get_attribute("aria-current") != "date":
                chip.click()
            page.locator(".day-strip [aria-current='date']", has_text=label).wait_for()
            return
        before = page.locator(".day-strip li").first.inner_text()
        page.get_by_role("link", name="Later days").click()
        page.locator(".day-strip li").first.filter(has_not_text=before).wait_for()
    raise AssertionError(f"no day {label!r} in the picker")


def choose_time(page, name) -> None:
    """Click the picker's button named `name` (a string or a pattern), opening the
    "more times" of its part of the day when it is kept there."""
    button = page.get_by_role("button", name=name)
    if not button.is_visible():
        for summary in page.locator("details.more-times:not([open]) > summary").all():
            summary.click()
            if button.is_visible():
                break
    button.click()
