"""Online deposits in a real browser, on a phone, against the local Stripe (tests/payments/
fake_stripe.py, its own checkout page with Pay and Back on another origin).

A signed-in patient books a course whose £50.00 deposit is required: the confirm step says so
and its Content Security Policy lets a form lead to Stripe's origin and no other; they go to
Stripe's page, come back without paying (their times kept until a time in clinic time), let
the times go, book one of the nearest times instead, pay, and wait on the status page until
the signed webhook has booked the course (htmx checks); the page after booking and My
appointments say the deposit was paid online.

axe checks each page and state. The only other origin any request goes to is the fake
Stripe's. SCREENSHOTS=1 keeps a picture of each under var/test-artifacts/deposits/.
"""

import os
import re
from datetime import datetime
from decimal import Decimal
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.conf import settings as django_settings

from booking.deposits.models import DepositCheckout
from booking.models import BookingRules, ConsentText, Course, Session
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.browser.axe import axe_report, axe_violations
from tests.browser.conftest import choose_time, other_origin_requests, show_day
from tests.browser.test_phone_booking import TALLEST_PX, sign_in_as
from tests.education.factories import SuitabilityQuestionFactory, TreatmentFactory
from tests.payments.signing import WEBHOOK_PATH

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
LONDON = ZoneInfo("Europe/London")
# Summer time (UTC+1): a time shown in UTC instead of the clinic's would be an hour out.
MONDAY_MORNING = datetime(2026, 6, 1, 9, tzinfo=LONDON)
PHONE = {"width": 390, "height": 844}
S = DepositCheckout.Status


@pytest.fixture
def clinic():
    """Microneedling at £180.00 a session or £480.00 for 3, with a £50.00 deposit required."""
    treatment = TreatmentFactory(
        session_price=Decimal("180.00"),
        package_price=Decimal("480.00"),
        deposit="fixed",
        deposit_value=Decimal("50.00"),
    )
    SuitabilityQuestionFactory(treatment=treatment, text="Are you pregnant?")
    PractitionerFactory(treatments=[treatment], display_name="Dr Demo")
    ConsentText.objects.create(version=1, text="I understand the risks and the aftercare.")
    rules = BookingRules.current()
    rules.deposit_required = True
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
        folder = django_settings.TEST_ARTIFACTS_DIR / "deposits"
        folder.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(folder / f"{name}.png"), full_page=True, caret="initial")


def origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def form_action(response) -> set[str]:
    policy = response.headers["content-security-policy"]
    directive = next(d.split() for d in policy.split(";") if d.split()[:1] == ["form-action"])
    return set(directive[1:])


def consent_and_confirm(page) -> None:
    heading(page, "Consent")
    page.get_by_label("I have read and agree").check()
    page.get_by_role("button", name="Next").click()
    heading(page, "Check and confirm")


def test_a_patient_pays_the_deposit_on_stripe_and_is_booked_by_its_webhook(
    page, live_server, clinic, fake_stripe_live
):
    fake = fake_stripe_live
    stripe_origin = origin(fake.checkout_origin)
    page.set_viewport_size(PHONE)
    patient = PatientFactory(user__email="dee.posit@example.org", full_name="Dee Posit")
    sign_in_as(page, patient.user.email, live_server.url)
    with time_machine.travel(MONDAY_MORNING, tick=True):
        page.goto(f"/book/treatment/{clinic.slug}/")
        heading(page, "How many sessions?")
        assert page.get_by_text("You pay a deposit online when you book.").is_visible()
        page.get_by_role("button", name="Next").click()
        heading(page, "A few health questions")
        header = "Booking: Microneedling, 3 sessions, £480.00, with a £50.00 deposit paid online"
        assert page.get_by_text(header).is_visible()
        page.get_by_role("group", name="Are you pregnant?").get_by_label("No").check()
        page.get_by_role("button", name="Next").click()
        page.get_by_role("button", name="Next").click()  # anyone
        heading(page, "Choose a time for your first session")
        show_day(page, "10 Jun")
        choose_time(page, re.compile("^Wednesday 10 June 2026, 10:00 to"))
        heading(page, "Your course of 3 sessions")
        assert page.get_by_text("You pay a £50.00 deposit online when you confirm.").is_visible()
        page.get_by_role("link", name="Next", exact=True).click()
        consent_and_confirm(page)

        # The confirm step: the deposit, one button to pay it, and a policy that lets a form
        # lead to Stripe's page and nowhere else new.
        response = page.reload()
        assert form_action(response) == {"'self'", stripe_origin}
        main = page.locator("main")
        assert "£50.00, paid online now by card. You pay the rest, £430.00, at the clinic." in (
            main.inner_text()
        )
        assert page.get_by_role("button", name="Book and pay at the clinic").count() == 0
        assert page.get_by_role("button", name="Confirm booking").count() == 0
        checked(page, "1-confirm")
        page.get_by_role("button", name="Pay £50.00 deposit and book").click()

        # Stripe's page; back without paying: the times are kept, until a time in clinic time.
        page.get_by_role("heading", name="Pay 50.00 GBP").wait_for()
        assert origin(page.url) == stripe_origin
        page.get_by_role("link", name="Back").click()
        heading(page, "Your deposit")
        status = page.locator("#deposit-status")  # its live region (role="status")
        status.get_by_text("You have not paid yet, so your course is not booked.").wait_for()
        first = DepositCheckout.objects.get()
        until = first.expires_at.astimezone(LONDON).strftime("%H:%M")
        assert until == "09:31" or until == "09:32", until  # 31 minutes; in UTC: 08:31
        assert f"We are keeping these times for you until {until}:" in status.inner_text()
        assert "Wednesday 10 June 2026, 10:00 to" in status.inner_text()
        checked(page, "2-left")
        pay_again = page.get_by_role("link", name="Pay the £50.00 deposit")
        assert pay_again.get_attribute("href") == first.url

        # Let the times go: released, nothing taken; the nearest free times, to book one.
        page.get_by_role("button", name="Let these times go").click()
        status.get_by_text("We are no longer keeping your times").wait_for()
        assert "Nothing was taken from your card." in status.inner_text()
        first.refresh_from_db()
        assert first.status == S.RELEASED
        assert not Session.with_holds.held().exists()
        checked(page, "3-released")
        status.get_by_role("button", name=re.compile("^Wednesday 10 June 2026, 10:00 to")).click()

        heading(page, "Your course of 3 sessions")
        page.get_by_role("link", name="Next", exact=True).click()
        consent_and_confirm(page)

        # Pay this time. Stripe's webhook is held back until the page has been seen waiting.
        page.get_by_role("button", name="Pay £50.00 deposit and book").click()
        page.get_by_role("heading", name="Pay 50.00 GBP").wait_for()
        fake.webhook_url = None
        page.get_by_role("button", name="Pay").click()
        heading(page, "Your deposit")
        status.get_by_text("We are waiting for the card payment service").wait_for()
        assert not Course.objects.exists()
        checked(page, "4-waiting")
        paid = next(e for e in reversed(fake.events) if e["type"] == "checkout.session.completed")
        assert fake.deliver(paid, live_server.url + WEBHOOK_PATH).status_code == 200
        booked = page.get_by_role("heading", name="You are booked in", level=1)
        booked.wait_for(timeout=10_000)  # the page checks again every 3 seconds
        price = page.get_by_text("Price: £480.00 for a course of 3 sessions.")
        assert price.inner_text().endswith(
            "Deposit of £50.00 paid online. The rest, £430.00, is paid at the clinic."
        )
        assert "Nothing has been taken" not in page.locator("main").inner_text()
        checked(page, "5-done")

        page.get_by_role("link", name="See or change your appointments").click()
        heading(page, "My appointments")
        assert page.evaluate("document.documentElement.scrollHeight") <= TALLEST_PX
        page.get_by_text("Payments: £430.00 still to pay").click()
        money = page.locator("details.course-money")
        assert money.get_by_text("You paid £50.00 online").is_visible()
        checked(page, "6-appointments")

    course = Course.objects.get()
    assert DepositCheckout.objects.filter(status=S.BOOKED).get().course == course
    # Stripe's page, by the patient's own clicks, is the only other origin reached.
    others = other_origin_requests(page, live_server.url)
    assert others and {origin(url) for url in others} == {stripe_origin}, others
    assert page.console_errors == []
