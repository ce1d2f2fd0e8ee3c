"""The site's frame in a real browser: assets load from our origin under the CSP."""

import pytest
from django.conf import settings

from tests.browser.conftest import other_origin_requests
from tests.helpers import clinic_details

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def clinic():
    return clinic_details()


def test_home_page_renders_with_bootstrap_and_no_other_origin(page, live_server):
    page.goto("/")
    assert page.get_by_role("heading", level=1).is_visible()
    # Bootstrap's CSS applied: the navbar is a flex container.
    assert page.locator("nav.navbar").evaluate("el => getComputedStyle(el).display") == "flex"
    assert other_origin_requests(page, live_server.url) == []
    assert not [e for e in page.console_errors if "Content Security Policy" in e]
    settings.TEST_ARTIFACTS_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(settings.TEST_ARTIFACTS_DIR / "home.png"), full_page=True)


def test_skip_link_is_the_first_stop_for_the_keyboard(page):
    page.goto("/")
    page.keyboard.press("Tab")
    focused = page.evaluate("document.activeElement.textContent.trim()")
    assert focused == "Skip to main content"
    assert page.get_by_role("link", name="Skip to main content").is_visible()
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main-content"


def test_menu_collapses_behind_a_button_on_a_narrow_screen(page):
    page.set_viewport_size({"width": 320, "height": 640})
    page.goto("/")
    menu = page.get_by_role("button", name="Menu")
    assert menu.is_visible()
    assert not page.get_by_role("link", name="Sign in").is_visible()
    menu.click()
    page.get_by_role("link", name="Sign in").wait_for(state="visible")
    assert page.evaluate("document.documentElement.scrollWidth") <= 320
