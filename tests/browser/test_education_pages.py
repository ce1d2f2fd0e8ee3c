"""Education pages in a real browser: our origin only, CSP intact, widgets work."""

import re

import pytest
from django.core.management import call_command

from tests.browser.conftest import other_origin_requests

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PAGES = [
    "/",
    "/treatments/microneedling/",
    "/treatments/microneedling/suitability/",
    "/articles/",
    "/faq/",
    "/search/?q=dermaroller",
    "/newsletter/",
]


@pytest.fixture(autouse=True)
def demo():
    call_command("seed_demo", "--quiet-logins")


def test_every_page_stays_on_our_origin_without_csp_errors(page, live_server):
    for path in PAGES:
        response = page.goto(path)
        assert response.status == 200, path
        assert page.get_by_role("heading", level=1).count() == 1, path
    assert other_origin_requests(page, live_server.url) == []
    assert page.console_errors == []


def test_faq_anchor_opens_its_answer(page):
    page.goto("/faq/")
    first = page.locator("details.faq").first
    anchor = first.get_attribute("id")
    page.goto(f"/faq/#{anchor}")
    assert page.locator(f"details#{anchor}").evaluate("el => el.open")


def test_suitability_journey(page):
    page.goto("/treatments/microneedling/")
    page.get_by_role("link", name="Is it right for me?").click()
    for group in page.locator("fieldset").all():
        group.get_by_label("No").check()
    page.get_by_role("button", name="See my result").click()
    assert page.get_by_role("heading", name="You can book online").is_visible()


def test_aftercare_prints_on_one_page(page, tmp_path):
    page.goto("/treatments/microneedling/")
    page.emulate_media(media="print")
    assert page.locator(".aftercare-section").is_visible()
    assert not page.get_by_role("heading", name="How it works").is_visible()
    pdf = tmp_path / "aftercare.pdf"
    page.pdf(path=str(pdf), format="A4")
    assert len(re.findall(rb"/Type\s*/Page[^s]", pdf.read_bytes())) == 1
