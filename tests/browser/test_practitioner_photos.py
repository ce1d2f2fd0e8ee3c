"""The pages with a practitioner's picture, in Chromium: the choice of whom to see, the
confirm step and the admin's practitioner page (its photo part, for axe).

Each loads its pictures from the site itself and nothing from another origin,
passes axe (WCAG 2.2 AA), and leaves screenshots at phone and desktop width,
var/test-artifacts/screens/<size>-photos-<page>.png, for whoever looks at them.
"""

from datetime import datetime

import pytest
import time_machine
from django.conf import settings
from django.test import Client

from booking import services
from booking.demo_portraits import LOOKS, portrait
from booking.models import ConsentText
from booking.photos import photo_prepare
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory
from tests.booking.images import upload
from tests.browser.axe import axe_report, axe_violations
from tests.browser.conftest import other_origin_requests
from tests.education.factories import TreatmentFactory
from tests.helpers import LONDON

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SIZES = {"phone": {"width": 390, "height": 844}, "desktop": {"width": 1366, "height": 900}}


@pytest.fixture
def clinic(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    treatment = TreatmentFactory()
    ConsentText.objects.create(version=1, text="I understand the risks and the aftercare.")
    pictured = PractitionerFactory(
        treatments=[treatment],
        display_name="Dr Sam Example",
        credentials="MBBS, aesthetic doctor",
        bio="Has treated acne scars with microneedling for ten years.",
        photo_alt="Sam, with long dark hair and a navy tunic",
    )
    photo = photo_prepare(upload(portrait(LOOKS[0]), name="sam.png"))
    services.practitioner_save(practitioner=pictured, photo=photo)
    PractitionerFactory(
        treatments=[treatment],
        display_name="Kit Fisher",
        credentials="RN, aesthetic nurse",
        bio="Works mornings and late afternoons.",
    )
    return {"treatment": treatment, "pictured": pictured, "patient": PatientFactory()}


def sign_in(page, user, url: str) -> None:
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME]
    page.context.clear_cookies()
    page.context.add_cookies(
        [{"name": settings.SESSION_COOKIE_NAME, "value": cookie.value, "url": url}]
    )


def check_page(page, name: str, part: str | None = None) -> None:
    """At each width: every picture drawn, a screenshot, and axe's verdict (on `part`)."""
    folder = settings.TEST_ARTIFACTS_DIR / "screens"
    folder.mkdir(parents=True, exist_ok=True)
    for size, viewport in SIZES.items():
        page.set_viewport_size(viewport)
        page.wait_for_load_state()
        for picture in page.locator("img.practitioner-picture, .field-photo_preview img").all():
            picture.scroll_into_view_if_needed()  # lazy: loaded once near the view
            assert picture.evaluate("img => img.decode().then(() => img.naturalWidth)") > 0
        page.evaluate("window.scrollTo(0, 0)")
        # caret="initial": hiding the caret injects a style the Content Security Policy refuses.
        shot = folder / f"{size}-photos-{name}.png"
        page.screenshot(path=str(shot), full_page=True, caret="initial")
        violations = axe_violations(page, include=part)
        assert not violations, axe_report(violations, page.url)


def test_pages_with_pictures_load_them_from_the_site_and_pass_axe(page, live_server, clinic):
    pictured = clinic["pictured"]
    with time_machine.travel(datetime(2026, 6, 1, 8, tzinfo=LONDON), tick=True):
        sign_in(page, clinic["patient"].user, live_server.url)
        page.goto("/book/treatment/microneedling/")
        page.get_by_role("button", name="Next").click()  # 3 sessions, the usual
        page.get_by_role("heading", name="Who would you like to see?").wait_for()
        check_page(page, "1-practitioner")
        choice = page.get_by_role("radio", name="Dr Sam Example, MBBS, aesthetic doctor")
        assert choice.get_attribute("aria-describedby")
        # The card is the target: a click on the photo chooses its radio button.
        photo = page.get_by_alt_text("Sam, with long dark hair and a navy tunic").bounding_box()
        page.mouse.click(photo["x"] + photo["width"] / 2, photo["y"] + photo["height"] / 2)
        assert choice.is_checked()
        page.get_by_role("button", name="Next").click()

        page.locator("#picker button.slot-button:visible").first.click()
        page.get_by_role("heading", name="Your course of 3 sessions").wait_for()
        page.get_by_role("link", name="Next", exact=True).click()
        page.get_by_label("I have read and agree").check()
        page.get_by_role("button", name="Next").click()
        page.get_by_role("heading", name="Check and confirm").wait_for()
        card = page.get_by_role("listitem").filter(
            has=page.get_by_role("img", name="Sam, with long dark hair and a navy tunic")
        )
        assert card.get_by_role(
            "img", name="Sam, with long dark hair and a navy tunic"
        ).is_visible()
        assert "MBBS, aesthetic doctor" in card.inner_text()
        check_page(page, "2-confirm")

        # The patient's pages only: the admin's own scripts set inline styles, which the
        # Content Security Policy refuses (Django's, and nothing this page added).
        assert page.console_errors == []
        sign_in(page, UserFactory(is_staff=True, is_superuser=True), live_server.url)
        page.goto(f"/admin/booking/practitioner/{pictured.pk}/change/")
        # axe on the photo's fieldset: elsewhere on the page Django's own widgets fail it
        # (the treatments' filter_horizontal boxes, the inlines' unlabelled time fields).
        check_page(page, "3-admin", part="fieldset:has(.field-photo_preview)")

    photos_loaded = [url for url in page.requests_seen if "/media/practitioners/" in url]
    assert photos_loaded and all(url.endswith(".webp") for url in photos_loaded)
    assert other_origin_requests(page, live_server.url) == []
