"""What the patient reads of online deposits: the journey's steps and its confirm step (required,
offered, off), the page Stripe sends them back to in each state, the page after booking, the
confirmation, My appointments and the late-payment email. Against the local Stripe."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.conf import settings
from django.core import mail
from django.urls import reverse

from booking.deposits.models import DepositCheckout
from booking.models import BookingRules, Course
from tests.booking.conftest import NOW, clinic_ready  # noqa: F401
from tests.booking.factories import PatientFactory
from tests.booking.test_journey import walk_to_plan
from tests.booking.test_prices_pages import has, set_prices, text
from tests.helpers import LONDON
from tests.payments.signing import WEBHOOK_PATH, signed
from tests.worker import send_all_due

pytestmark = pytest.mark.django_db
D = Decimal
S = DepositCheckout.Status
CONFIRM = reverse("booking:confirm")


@pytest.fixture
def priced(clinic_ready):  # noqa: F811
    """£180.00 a session or £480.00 for 3, with a £50.00 deposit (offered: the default)."""
    treatment = set_prices(clinic_ready)
    treatment.deposit, treatment.deposit_value = "fixed", D("50.00")
    treatment.save()
    return treatment


def required(yes: bool = True) -> None:
    rules = BookingRules.current()
    rules.deposit_required = yes
    rules.save()


def to_confirm(client, patient, treatment):
    """The journey up to the confirm step, signed in: (its page, the journey's key)."""
    client.force_login(patient.user)
    walk_to_plan(client, treatment)
    client.post(reverse("booking:consent"), {"agree": "on"})
    page = client.get(CONFIRM)
    return page, re.search(r'name="key" value="([^"]+)"', page.content.decode()).group(1)


def pay_online(client, patient, treatment) -> DepositCheckout:
    _page, key = to_confirm(client, patient, treatment)
    response = client.post(CONFIRM, {"key": key, "pay": "deposit"})
    checkout = DepositCheckout.objects.get(key=key)
    assert response.status_code == 303 and response["Location"] == checkout.url
    return checkout


def post_event(client, fake, event):
    body, headers = signed(event, fake.secret)
    return client.post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)


def status_page(client, checkout, *, htmx=False, **params):
    """The page Stripe sends the patient back to; htmx=True: its own check while waiting."""
    headers = {"HX-Request": "true"} if htmx else {}
    return client.get(
        reverse("booking:deposit_status", args=[checkout.pk]), params, headers=headers
    )


# --- the journey ---------------------------------------------------------------------------


def test_a_required_deposit_is_said_on_every_step_and_is_the_only_way_to_confirm(
    client, now, fake_stripe, patient, priced
):
    required()
    client.get(reverse("booking:start_with", args=[priced.slug]))
    has(text(client.get(reverse("booking:length"))), "You pay a deposit online when you book.")
    page, _key = to_confirm(client, patient, priced)
    words = text(page)
    has(words, "Booking: Microneedling, 3 sessions, £480.00, with a £50.00 deposit paid online")
    has(words, "Deposit £50.00, paid online now by card. You pay the rest, £430.00, at the clinic.")
    has(words, "Pay £50.00 deposit and book")
    assert "Book and pay at the clinic" not in words and "Nothing is taken now" not in words
    policy = dict(d.strip().split(" ", 1) for d in page["Content-Security-Policy"].split(";"))
    assert policy["form-action"].split() == ["'self'", fake_stripe.checkout_origin]
    plan = text(client.get(reverse("booking:plan")))
    has(plan, "You pay a £50.00 deposit online when you confirm. The rest is paid at the clinic.")


def test_an_offered_deposit_may_be_left_for_the_clinic(client, now, fake_stripe, patient, priced):
    page, key = to_confirm(client, patient, priced)
    words = text(page)
    has(words, "Deposit You can pay £50.00 online now by card, or pay it all at the clinic.")
    has(words, "Booking: Microneedling, 3 sessions, £480.00, paid at the clinic")
    assert "Pay £50.00 deposit and book" in words and "Book and pay at the clinic" in words
    response = client.post(CONFIRM, {"key": key, "pay": "clinic"})
    course = Course.objects.get()
    assert response["Location"] == reverse("booking:done", args=[course.pk])
    assert not DepositCheckout.objects.exists() and fake_stripe.calls == []
    done = text(client.get(response["Location"]))
    has(done, "Price: £480.00 for a course of 3 sessions. You pay at the clinic. Nothing has been")


def test_without_the_keys_the_journey_says_pay_at_the_clinic(client, now, patient, priced):
    required()  # asked for, but deposits are off without the Stripe keys
    page, _key = to_confirm(client, patient, priced)
    words = text(page)
    has(words, "Price £480.00 for a course of 3 sessions (you save £60.00) Paid at the clinic.")
    assert "deposit" not in words.lower() and "Confirm booking" in words
    assert "form-action 'self';" in page["Content-Security-Policy"] + ";"


# --- the page Stripe sends the patient back to ---------------------------------------------


def test_back_without_paying_the_times_are_kept_until_a_time_in_clinic_time(
    client, now, fake_stripe, patient, priced
):
    checkout = pay_online(client, patient, priced)
    page = text(status_page(client, checkout, left="1"))
    has(page, "You have not paid yet, so your course is not booked.")
    has(page, "We are keeping these times for you until 08:31:")  # BST; 07:31 in UTC
    assert checkout.expires_at.astimezone(LONDON).strftime("%H:%M") == "08:31"
    assert f'href="{checkout.url}"' in status_page(client, checkout, left="1").content.decode()
    # While waiting, the page's own checks change nothing (204: no swap, nothing read out).
    assert status_page(client, checkout, htmx=True).status_code == 204
    has(text(status_page(client, checkout)), "We are waiting for the card payment service")
    # Stripe's page has closed: the time to pay has run out.
    with time_machine.travel(checkout.expires_at + timedelta(seconds=5), tick=False):
        # Signed out after 30 idle minutes on Stripe's page: sign in again, then back here.
        signed_out = status_page(client, checkout, left="1")
        assert signed_out["Location"].startswith(reverse("account_login") + "?next=")
        client.force_login(patient.user)
        has(text(status_page(client, checkout, left="1")), "The time to pay has run out")
    # Another patient's checkout is not found.
    client.force_login(PatientFactory().user)
    assert status_page(client, checkout).status_code == 404
    let_go = reverse("booking:deposit_abandon", args=[checkout.pk])
    assert client.post(let_go).status_code == 404


def test_letting_the_times_go_offers_the_nearest_ones_and_a_fresh_payment(
    client, now, fake_stripe, patient, priced
):
    checkout = pay_online(client, patient, priced)
    response = client.post(reverse("booking:deposit_abandon", args=[checkout.pk]))
    assert response["Location"] == reverse("booking:deposit_status", args=[checkout.pk])
    checkout.refresh_from_db()
    assert checkout.status == S.RELEASED
    page = status_page(client, checkout)
    has(text(page), "We are no longer keeping your times, so your course is not booked.")
    has(text(page), "Nothing was taken from your card. The nearest free times")
    first = re.search(r'name="slot" value="([^"]+)"', page.content.decode()).group(1)
    # The page's own check, had it been waiting, now gets the change to read out.
    part = status_page(client, checkout, htmx=True)
    assert part.status_code == 200 and "no longer keeping" in part.content.decode()
    # One of the times plans the course again; confirming starts a new payment page.
    assert client.post(reverse("booking:time"), {"slot": first}).status_code == 302
    client.post(reverse("booking:consent"), {"agree": "on"})
    key = re.search(r'name="key" value="([^"]+)"', client.get(CONFIRM).content.decode()).group(1)
    assert key != checkout.key
    client.post(CONFIRM, {"key": key, "pay": "deposit"})
    assert DepositCheckout.objects.get(key=key).status == S.OPEN


def test_a_late_payment_is_refunded_and_the_patient_told_with_the_nearest_times(
    client, now, fake_stripe, patient, priced, django_capture_on_commit_callbacks
):
    checkout = pay_online(client, patient, priced)
    paid = fake_stripe.pay(checkout.stripe_session)
    expired = {**paid["data"]["object"], "status": "expired"}
    post_event(client, fake_stripe, fake_stripe.event("checkout.session.expired", expired))
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, fake_stripe, paid)
    page = text(status_page(client, checkout))
    has(page, "Your payment came after we had let your times go, so your course is not booked.")
    has(page, "We have refunded your £50.00 in full. It can take 5 to 10 days")
    email = next(m for m in mail.outbox if m.subject == "Your deposit has been refunded")
    html = email.alternatives[0][0]
    for part in (email.body, text(html)):
        has(part, "Your deposit for microneedling reached us after we had let your times go.")
        has(part, "We have refunded your £50.00 in full.")
        has(part, "These are the nearest free times we have now:")
        assert "Monday 8 June 2026" in part
    book = settings.SITE_URL + reverse("booking:start_with", args=[priced.slug])
    assert f"Book again here: {book}\n" in email.body
    assert f'<a href="{book}" style=' in html


# --- after booking ----------------------------------------------------------------------


def test_the_done_page_the_confirmation_and_my_appointments_say_the_deposit_was_paid_online(
    client, now, fake_stripe, patient, priced, django_capture_on_commit_callbacks
):
    required()
    checkout = pay_online(client, patient, priced)
    with django_capture_on_commit_callbacks(execute=True):
        post_event(client, fake_stripe, fake_stripe.pay(checkout.stripe_session))
    checkout.refresh_from_db()
    response = status_page(client, checkout)
    assert response["Location"] == reverse("booking:done", args=[checkout.course_id])
    said = "Deposit of £50.00 paid online. The rest, £430.00, is paid at the clinic."
    done = text(client.get(response["Location"]))
    has(done, f"Price: £480.00 for a course of 3 sessions. {said}")
    assert "Nothing has been taken" not in done
    send_all_due()
    confirmation = next(m for m in mail.outbox if "is confirmed" in m.subject)
    has(confirmation.body, said)
    has(text(confirmation.alternatives[0][0]), said)
    appointments = text(client.get(reverse("booking:appointments")))
    has(appointments, "Payments: £430.00 still to pay")
    has(appointments, "You pay the rest at the clinic, by card, cash or voucher.")
    has(appointments, "1 June 2026: You paid £50.00 online.")
