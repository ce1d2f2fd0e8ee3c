"""Reception at the desk, in a browser: a course's ledger, a payment with its emailed receipt,
a policy fee waived, the day's takings and the outstanding balances; axe on each page."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.auth.models import Group
from django.core import mail

from booking import services
from booking.ledger.models import LedgerEntry, ReceiptSent
from booking.models import BookingRules
from clinic.emails import KIND_HEADER
from clinic.roles import RECEPTION
from tests.booking.conftest import first_free_slot
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory
from tests.browser.axe import axe_report, axe_violations
from tests.browser.conftest import other_origin_requests
from tests.browser.test_phone_booking import sign_in_as
from tests.education.factories import TreatmentFactory
from tests.helpers import LONDON, book, clinic_details

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]
K = LedgerEntry.Kind


@pytest.fixture
def desk_world(live_server, settings):
    settings.SITE_URL = live_server.url
    clinic_details()
    rules = BookingRules.current()
    rules.late_cancel_outcome, rules.late_cancel_fee = "fee", Decimal("30.00")
    rules.full_clean()
    rules.save()
    reception = UserFactory(email="desk@clinic.example", is_staff=True, full_name="Rhea Desk")
    reception.groups.add(Group.objects.get(name=RECEPTION))
    treatment = TreatmentFactory()  # £100 a session
    practitioner = PractitionerFactory(treatments=[treatment])
    patient = PatientFactory(full_name="Nia Payne", user=UserFactory(email="nia@example.org"))
    first = first_free_slot(treatment, practitioner).start.astimezone(LONDON)
    course = book(patient, treatment, practitioner, [first, first + timedelta(days=28)])
    second = course.sessions.get(number=2)
    # Cancelled by phone 5 hours before: the policy's £30 fee.
    services.session_cancel(
        session=second, now=second.start - timedelta(hours=5), by_staff=True, by=reception
    )
    return course


def axe_clean(page, failures: list) -> None:
    if violations := axe_violations(page):
        failures.append(axe_report(violations, page.url))


def test_reception_takes_a_payment_waives_a_fee_and_reads_the_reports(
    page, live_server, desk_world
):
    course, failures = desk_world, []
    sign_in_as(page, "desk@clinic.example", live_server.url)
    page.goto(f"/admin/booking/course/{course.pk}/change/")
    ledger = page.locator("#ledger")
    assert "Still to pay" in ledger.inner_text() and "£130.00" in ledger.inner_text()
    axe_clean(page, failures)

    # A payment at the card terminal, with the receipt emailed (ticked already).
    page.get_by_role("link", name="Record a payment").click()
    axe_clean(page, failures)
    page.get_by_label("Amount").fill("500")
    page.get_by_label("Card terminal").check()
    assert page.get_by_label("Email a receipt").is_checked()
    page.get_by_role("button", name="Record a payment").click()
    assert "That is more than the £130.00 still to pay." in page.content()  # beside the field
    axe_clean(page, failures)
    page.get_by_label("Amount").fill("100")
    page.get_by_label("Card terminal").check()
    page.get_by_role("button", name="Record a payment").click()
    page.get_by_text(
        "Payment of £100.00 by card terminal recorded. Still to pay: £30.00."
    ).wait_for()
    page.get_by_text("The receipt is emailed to the patient.").wait_for()
    (receipt,) = [m for m in mail.outbox if m.extra_headers.get(KIND_HEADER) == "booking.receipt"]
    assert receipt.to == ["nia@example.org"] and "£100.00" in receipt.body
    assert ReceiptSent.objects.filter(entry__course=course).count() == 1

    # The late cancellation's fee, waived with a reason.
    page.get_by_role("link", name="Waive a policy outcome").click()
    axe_clean(page, failures)
    page.get_by_role("button", name="Waive a policy outcome").click()
    assert "Say why the policy is waived." in page.content()
    page.get_by_label("Policy fee", exact=False).check()
    page.get_by_label("Why it is waived").fill("She was in hospital.")
    page.get_by_role("button", name="Waive a policy outcome").click()
    page.get_by_text("Nothing is owed either way.", exact=False).wait_for()
    assert course.ledger.get(kind=K.WAIVER).recorded_by.email == "desk@clinic.example"
    axe_clean(page, failures)

    # The day's takings and the outstanding balances, from the admin's index.
    page.goto("/admin/")
    page.get_by_role("link", name="The day's takings").click()
    page.get_by_role("heading", name="Totals").wait_for()
    totals = page.locator("#content table").first.inner_text()
    assert "Card terminal" in totals and "£100.00" in totals
    axe_clean(page, failures)
    page.goto("/admin/")
    page.get_by_role("link", name="Outstanding balances").click()
    page.get_by_role("heading", name="Patients who still owe").wait_for()
    assert "None: every course is paid up." in page.content()
    axe_clean(page, failures)
    assert other_origin_requests(page, live_server.url) == []
    assert not failures, "\n\n".join(failures)
