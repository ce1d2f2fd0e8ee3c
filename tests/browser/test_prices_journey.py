"""Prices and the cancellation policy in a real browser, on a phone: a signed-in patient
books a course seeing what each length costs, the price on every step and the policy before
confirming; reception takes a payment at the desk; My appointments then sums the course up.

axe checks every page visited. My appointments stays under the phone-height limit
(tests/browser/test_phone_booking.py) with the summary closed, as it loads.
SCREENSHOTS=1 keeps a picture of each under var/test-artifacts/prices/.
"""

import os
import re
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings

from booking import rulebook
from booking.ledger import services as ledger
from booking.models import BookingRules, ConsentText, Course
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory
from tests.browser.axe import axe_report, axe_violations
from tests.browser.conftest import choose_time, other_origin_requests, show_day
from tests.browser.test_phone_booking import TALLEST_PX
from tests.education.factories import SuitabilityQuestionFactory, TreatmentFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")
MONDAY_MORNING = datetime(2026, 1, 26, 9, tzinfo=LONDON)
PASSWORD = "a-Password-123"  # tests/booking/factories.py UserFactory
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def clinic():
    """Microneedling at £180.00 a session or £480.00 for 3; a £30.00 fee for a late cancel."""
    treatment = TreatmentFactory(session_price=Decimal("180.00"), package_price=Decimal("480.00"))
    SuitabilityQuestionFactory(treatment=treatment, text="Are you pregnant?")
    PractitionerFactory(treatments=[treatment], display_name="Dr Demo")
    ConsentText.objects.create(version=1, text="I understand the risks and the aftercare.")
    rules = BookingRules.current()
    rules.late_cancel_outcome, rules.late_cancel_fee = rulebook.FEE, Decimal("30.00")
    rules.save()
    return treatment


def heading(page, name, level=1):
    found = page.get_by_role("heading", name=name, level=level)
    found.wait_for()
    return found


def checked(page, name: str) -> None:
    """axe finds nothing on the page as it is; with SCREENSHOTS=1, a picture of it."""
    violations = axe_violations(page)
    assert not violations, axe_report(violations, page.url)
    if os.environ.get("SCREENSHOTS"):
        folder = django_settings.TEST_ARTIFACTS_DIR / "prices"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True, caret="initial")


def test_a_patient_sees_the_price_and_policy_then_the_summary_after_paying(
    page, live_server, clinic
):
    page.set_viewport_size(PHONE)
    patient = PatientFactory(user__email="pat.prices@example.org", full_name="Pat Prices")
    with time_machine.travel(MONDAY_MORNING, tick=True):
        page.goto("/accounts/login/")
        page.get_by_label("Email").fill(patient.user.email)
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.get_by_text("You are signed in.").wait_for()

        # The treatment page, then each length with its price and the package's saving.
        page.goto(f"/treatments/{clinic.slug}/")
        heading(page, "Microneedling")
        assert page.get_by_text("£180.00 a session, or £480.00 for a course of 3").is_visible()
        checked(page, "treatment-page")
        page.goto(f"/book/treatment/{clinic.slug}/")
        heading(page, "How many sessions?")
        assert page.get_by_role("radio", name="2 sessions: £360.00").is_visible()
        assert page.get_by_role("radio", name="4 sessions: £640.00 (you save £80.00)").is_visible()
        usual = page.get_by_role("radio", name="3 sessions (usual): £480.00 (you save £60.00)")
        assert usual.is_checked()
        checked(page, "length")
        page.get_by_role("button", name="Next").click()

        price_line = "Booking: Microneedling, 3 sessions, £480.00, paid at the clinic"
        heading(page, "A few health questions")
        assert page.get_by_text(price_line).is_visible()
        page.get_by_role("group", name="Are you pregnant?").get_by_label("No").check()
        page.get_by_role("button", name="Next").click()
        page.get_by_role("button", name="Next").click()  # anyone

        heading(page, "Choose a time for your first session")
        assert page.get_by_text(price_line).is_visible()
        checked(page, "time")
        show_day(page, "4 Feb")
        choose_time(page, re.compile("^Wednesday 4 February 2026, 10:00 to"))

        heading(page, "Your course of 3 sessions")
        assert page.get_by_text("Paid at the clinic. Nothing is taken now.").is_visible()
        checked(page, "plan")
        page.get_by_role("link", name="Next", exact=True).click()

        heading(page, "Consent")
        page.get_by_label("I have read and agree").check()
        page.get_by_role("button", name="Next").click()

        heading(page, "Check and confirm")
        main = page.locator("main")
        assert "£480.00 for a course of 3 sessions (you save £60.00)" in main.inner_text()
        rules = page.get_by_role("region", name="Moving or cancelling a session")
        assert "Cancelling less than 48 hours before a session costs £30.00." in rules.inner_text()
        # Deposits are off (no Stripe keys): nothing is asked online.
        assert "deposit" not in main.inner_text().lower()
        assert page.get_by_text("Paid at the clinic. Nothing is taken now.").is_visible()
        checked(page, "confirm")
        page.get_by_role("button", name="Confirm booking").click()

        heading(page, "You are booked in")
        price = page.get_by_text("Price: £480.00 for a course of 3 sessions.")
        assert price.inner_text().endswith("You pay at the clinic. Nothing has been taken.")
        checked(page, "done")

        # Reception takes £200.00 by card at the desk.
        course = Course.objects.get(patient=patient)
        desk = UserFactory(is_staff=True, full_name="Rhea Desk")
        ledger.payment_record(course=course, amount="200.00", method="card", by=desk)

        page.get_by_role("link", name="See or change your appointments").click()
        heading(page, "My appointments")
        assert page.evaluate("document.documentElement.scrollHeight") <= TALLEST_PX
        summary = page.get_by_text("Payments: £280.00 still to pay")
        assert summary.is_visible()
        assert not page.get_by_text("Paid so far").is_visible()  # closed until asked for
        summary.click()
        money = page.locator("details.course-money")
        assert money.get_by_text("Paid so far").is_visible()
        for words in ("£480.00", "£200.00", "£280.00", "0 of 3 sessions used"):
            assert words in money.inner_text()
        assert money.get_by_text("You paid £200.00 by card").is_visible()
        checked(page, "appointments")

    assert other_origin_requests(page, live_server.url) == []
    assert page.console_errors == []
