"""Online deposits on the staff side: the read-only deposit and event lists, the course's
ledger and the day's takings with money taken online, the schedule with a time held while
a patient pays, the policy that keeps a deposit, and the booking rules' page.

Stripe is the local fake (tests/payments/fake_stripe.py), events signed as Stripe signs them.
"""

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import time_machine
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from booking import services
from booking.availability import Slot
from booking.deposits import services as deposits
from booking.deposits.models import DepositCheckout, PaymentEvent
from booking.ledger.models import LedgerEntry
from booking.models import BookingRules
from tests.booking.factories import PatientFactory, agreed
from tests.helpers import at
from tests.payments import conftest as payments
from tests.payments.signing import WEBHOOK_PATH, signed
from tests.staff.admin_messages import said
from tests.staff.test_schedule import find, page, text

pytestmark = pytest.mark.django_db
D = Decimal
S = DepositCheckout.Status
K = LedgerEntry.Kind
NAME = "Dilys Deposit"
# The local Stripe's fixtures (tests/payments/conftest.py), for this module too.
fake_stripe_server, fake_stripe = payments.fake_stripe_server, payments.fake_stripe


@pytest.fixture
def priced(treatment):
    treatment.session_price, treatment.package_price = D("180.00"), D("480.00")
    treatment.deposit, treatment.deposit_value = "fixed", D("50.00")
    treatment.save()
    return treatment


@pytest.fixture
def payer(db):
    return PatientFactory(full_name=NAME)


def start(patient, treatment, practitioner, starts=None, key="journey-1"):
    """The confirm step's call: the times held, a Checkout open at the fake Stripe."""
    length = timedelta(minutes=treatment.appointment_minutes)
    agreement = agreed(treatment)
    return deposits.checkout_start(
        patient=patient,
        treatment=treatment,
        slots=[
            Slot(s, s + length, practitioner.pk)
            for s in (starts or [at(6, 10), at(7, 8), at(8, 5)])
        ],
        key=key,
        return_url=lambda c: f"http://testserver/book/deposit/{c.pk}/",
        answers=agreement["answers"],
        consent=agreement["consent"],
    )


def deliver(client, fake, event):
    body, headers = signed(event, fake.secret)
    response = client.post(WEBHOOK_PATH, body, content_type="application/json", headers=headers)
    assert response.status_code == 200
    return response


@pytest.fixture
def booked(client, now, fake_stripe, payer, priced, practitioner):
    """A course of 3 (£480) booked by its paid £50 deposit."""
    checkout = start(payer, priced, practitioner)
    deliver(client, fake_stripe, fake_stripe.pay(checkout.stripe_session))
    client.logout()
    checkout.refresh_from_db()
    assert checkout.status == S.BOOKED
    return checkout


@pytest.fixture
def late(client, now, fake_stripe, payer, priced, practitioner):
    """A deposit paid after its Checkout expired: refunded in full, no course."""
    checkout = start(payer, priced, practitioner)
    paid = fake_stripe.pay(checkout.stripe_session)
    expired = fake_stripe.event(
        "checkout.session.expired", {**paid["data"]["object"], "status": "expired"}
    )
    deliver(client, fake_stripe, expired)
    deliver(client, fake_stripe, paid)
    client.logout()
    checkout.refresh_from_db()
    assert checkout.status == S.REFUNDED and checkout.course is None
    return checkout


# --- the deposit and event lists ------------------------------------------------------------


def test_reception_reads_the_online_deposits_and_nobody_changes_them(booked, reception, client_for):
    client = client_for(reception)
    listing = client.get(reverse("admin:booking_depositcheckout_changelist"))
    assert listing.status_code == 200
    html = listing.content.decode()
    for shown in (NAME, "Microneedling", "£50.00", "Paid: course booked"):
        assert shown in html, shown
    detail = client.get(reverse("admin:booking_depositcheckout_change", args=[booked.pk]))
    assert detail.status_code == 200
    html = detail.content.decode()
    assert "Deposit paid online" in html and "checkout.session.completed" in html
    assert 'name="_save"' not in html  # read only
    # The health answers kept to book the course once paid are not reception's to see.
    shown = [
        f for _name, options in detail.context["adminform"].fieldsets for f in options["fields"]
    ]
    assert "patient_link" in shown and "answers" not in shown
    add = reverse("admin:booking_depositcheckout_add")
    delete = reverse("admin:booking_depositcheckout_delete", args=[booked.pk])
    change = reverse("admin:booking_depositcheckout_change", args=[booked.pk])
    assert client.get(add).status_code == 403
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert client.post(change, {"status": "released"}).status_code == 403
    assert DepositCheckout.objects.get(pk=booked.pk).status == S.BOOKED
    events = client.get(reverse("admin:booking_paymentevent_changelist"))
    assert events.status_code == 200
    event = PaymentEvent.objects.get()
    assert event.event_id in events.content.decode()
    assert client.get(reverse("admin:booking_paymentevent_add")).status_code == 403


def test_clinicians_and_content_editors_do_not_see_the_deposits(
    booked, clinician, editor, client_for
):
    for user in (clinician, editor):
        client = client_for(user)
        for name in ("depositcheckout", "paymentevent"):
            assert client.get(reverse(f"admin:booking_{name}_changelist")).status_code == 403
        url = reverse("admin:booking_depositcheckout_change", args=[booked.pk])
        assert client.get(url).status_code == 403


def test_the_deposit_search_finds_by_name_and_is_bounded(booked, reception, client_for):
    client = client_for(reception)
    url = reverse("admin:booking_depositcheckout_changelist")
    assert client.get(url, {"q": "Dilys"}).context["cl"].result_count == 1
    assert client.get(url, {"q": "Nobody"}).context["cl"].result_count == 0
    long = client.get(url, {"q": "Dilys " + "x " * 500})
    assert long.status_code == 200 and long.context["cl"].result_count == 0
    assert any("Search uses the first" in m for m in said(long))


# --- the course's ledger and the desk ------------------------------------------------------


def test_the_course_ledger_shows_the_deposit_paid_online_and_kept_by_the_policy(
    booked, reception, client_for
):
    rules = BookingRules.current()
    rules.late_cancel_outcome = "deposit"
    rules.save()
    course = booked.course
    first = course.sessions.get(number=1)
    with time_machine.travel(first.start - timedelta(hours=5), tick=False):
        services.session_cancel(session=first, by_staff=True, by=reception)
    assert course.ledger.get(kind=K.KEPT).amount == D("50.00")

    client = client_for(reception)
    html = client.get(reverse("admin:booking_course_change", args=[course.pk])).content.decode()
    ledger = html.split('id="ledger"')[1]
    assert "Card online (Stripe)" in ledger and "Deposit paid online" in ledger
    assert "Deposit kept (cancelled inside the notice)" in ledger
    payment = course.ledger.get(kind=K.PAYMENT)
    # Stripe's money is not the desk's to correct; the desk's forms never offer "online".
    assert f"?entry={payment.pk}" not in ledger
    for action in ("payment", "refund"):
        form = client.get(reverse(f"admin:booking_course_{action}", args=[course.pk]))
        assert 'value="card"' in form.content.decode()
        assert 'value="online"' not in form.content.decode()
    correct = client.get(reverse("admin:booking_course_correct", args=[course.pk]))
    assert "This course has no payment or refund to correct." in correct.content.decode()
    refused = client.post(
        reverse("admin:booking_course_payment", args=[course.pk]),
        {"amount": "10", "method": "online", "receipt": ""},
    )
    assert refused.status_code == 200 and course.ledger.filter(kind=K.PAYMENT).count() == 1


def test_the_staff_cancel_page_says_the_deposit_is_kept(booked, reception, client_for):
    rules = BookingRules.current()
    rules.late_cancel_outcome = "deposit"
    rules.save()
    first = booked.course.sessions.get(number=1)
    cancel = reverse("admin:booking_session_cancel", args=[first.pk])
    client = client_for(reception)
    with time_machine.travel(first.start - timedelta(hours=5), tick=False):
        html = client.get(cancel).content.decode()
    assert "Cancelling now: the deposit of £50.00 is kept, per the clinic&#x27;s policy." in html


def test_the_days_takings_list_a_late_online_payment_and_its_refund(
    late, reception, client_for, now
):
    client = client_for(reception)
    response = client.get(reverse("admin:booking_ledgerentry_takings"))
    assert response.status_code == 200
    takings = response.context["takings"]
    (totals,) = takings.totals
    online = next(m for m in totals.methods if m.method == "online")
    assert (online.label, online.taken, online.refunded, online.net) == (
        "Card online (Stripe)",
        D("50.00"),
        D("50.00"),
        D("0.00"),
    )
    html = response.content.decode()
    checkout_url = reverse("admin:booking_depositcheckout_change", args=[late.pk])
    assert html.count(f'<a href="{checkout_url}">{NAME}</a>') == 2
    download = client.get(reverse("admin:booking_ledgerentry_takings_csv"))
    rows = list(csv.reader(io.StringIO(download.content.decode())))[1:]
    assert [(r[1], r[3], r[4], r[6], r[7]) for r in rows] == [
        (NAME, "Payment", "Card online (Stripe)", "50.00", ""),
        (NAME, "Refund", "Card online (Stripe)", "", "50.00"),
    ]
    # The read-only ledger lists them too, with the checkout for a course.
    listing = client.get(reverse("admin:booking_ledgerentry_changelist"))
    assert listing.status_code == 200 and NAME in listing.content.decode()
    entry = LedgerEntry.objects.filter(checkout=late).first()
    detail = client.get(reverse("admin:booking_ledgerentry_change", args=[entry.pk]))
    assert checkout_url in detail.content.decode()


def test_a_day_with_no_online_money_has_no_online_line(booked, reception, client_for, now):
    from booking.ledger import services as ledger

    ledger.payment_record(course=booked.course, amount="30", method="cash", by=reception)
    client = client_for(reception)
    tomorrow = (now + timedelta(days=1)).date().isoformat()
    with time_machine.travel(now + timedelta(days=1), tick=False):
        ledger.payment_record(course=booked.course, amount="20", method="card", by=reception)
    response = client.get(reverse("admin:booking_ledgerentry_takings"), {"day": tomorrow})
    (totals,) = response.context["takings"].totals
    assert [m.method for m in totals.methods] == ["card", "cash", "voucher"]
    assert "Card online" not in response.content.decode()
    today = client.get(reverse("admin:booking_ledgerentry_takings")).context["takings"]
    assert [m.method for m in today.totals[0].methods] == ["card", "cash", "voucher", "online"]


# --- the schedule ---------------------------------------------------------------------------


def test_the_schedule_shows_a_time_held_for_a_deposit_with_no_more_queries(
    client,
    now,
    fake_stripe,
    payer,
    priced,
    clinician,
    reception,
    client_for,
):
    mine = clinician.practitioner
    day = reverse("admin:booking_schedule_day")
    desk = client_for(reception)
    desk.get(day, {"date": "2026-06-10"})  # what is read once, then kept
    with CaptureQueriesContext(connection) as without_hold:
        desk.get(day, {"date": "2026-06-10"})
    checkout = start(payer, priced, mine)
    with CaptureQueriesContext(connection) as with_hold:
        html = page(desk, day, date="2026-06-10")
    assert len(with_hold) == len(without_hold)

    (held,) = find(html, "div", "session--held")
    label = "Held while the patient pays a deposit, until 08:31 Mon 1 Jun"
    assert text(held) == (f"10:00–11:15 {NAME} (online deposit) Microneedling O Dr Own ◔ {label}")
    (row,) = find(html, "tr", "session--held")
    checkout_url = reverse("admin:booking_depositcheckout_change", args=[checkout.pk])
    for shown in (held, row):  # the grid and the day list link the deposit, not the waitlist
        assert [dict(a.attributes)["href"] for a in find(shown, "a")] == [checkout_url]
    assert "Online deposit" in text(row) and "Waitlist offer" not in text(row)
    csv_text = desk.get(reverse("admin:booking_schedule_csv"), {"date": "2026-06-10"})
    assert label in csv_text.content.decode()

    # A clinician sees the time held on their own schedule, without whose it is.
    week = page(client_for(clinician), reverse("admin:booking_schedule_week"), date="2026-06-08")
    (held,) = find(week, "div", "session--held")
    assert label in text(held)
    assert NAME not in text(held) and not list(find(held, "a"))

    # Once released (the Checkout expired), the time is free again.
    deliver(client, fake_stripe, fake_stripe.expire(checkout.stripe_session))
    assert not list(find(page(desk, day, date="2026-06-10"), "div", "session--held"))


def test_a_held_time_is_refused_to_another_booking_in_neutral_words(
    now,
    fake_stripe,
    payer,
    priced,
    practitioner,
):
    start(payer, priced, practitioner, starts=[at(6, 10)])
    with pytest.raises(services.SlotTaken) as taken:
        start(PatientFactory(), priced, practitioner, starts=[at(6, 10)], key="journey-2")
    assert "held for another patient until 08:31" in taken.value.message
    assert "waitlist" not in taken.value.message


# --- the booking rules and the treatment -----------------------------------------------------


def test_the_booking_rules_page_has_the_deposit_setting_and_outcome(superuser, client_for):
    client = client_for(superuser)
    BookingRules.current().save()  # the clinic's rules, saved once
    html = client.get(
        reverse("admin:booking_bookingrules_change", args=[BookingRules.current().pk])
    ).content.decode()
    deposits_part = html.split('class="fieldset-heading">Online deposits</h2>')[1]
    assert 'name="deposit_required"' in deposits_part
    assert "Stripe keys" in deposits_part

    def options(name):
        select = html.split(f'name="{name}"')[1].split("</select>")[0]
        return select

    assert 'value="deposit"' in options("late_cancel_outcome")
    assert 'value="deposit"' in options("no_show_outcome")
    assert 'value="deposit"' not in options("late_move_outcome")


def test_the_treatment_page_explains_the_deposit(superuser, client_for, treatment):
    html = (
        client_for(superuser)
        .get(reverse("admin:education_treatment_change", args=[treatment.pk]))
        .content.decode()
    )
    assert 'name="deposit"' in html and 'name="deposit_value"' in html
    assert "Whether it is required or only offered is in the booking rules." in html
