"""The ledger in the admin, as reception uses it: the desk's actions on a course, the read-only
ledger, the day's takings and the outstanding balances (with their CSV), and the policy on
staff's cancel page."""

import csv
import io
import smtplib
from datetime import datetime, timedelta
from decimal import Decimal
from unittest import mock

import pytest
import time_machine
from django.contrib.auth.models import Group, Permission
from django.core import mail
from django.test import Client
from django.urls import reverse

from booking import services
from booking.ledger import services as ledger
from booking.ledger.models import LedgerEntry, ReceiptSent
from booking.models import BookingRules
from clinic.emails import KIND_HEADER
from clinic.roles import RECEPTION
from tests.booking.factories import PatientFactory, UserFactory
from tests.helpers import LONDON, at, book
from tests.staff.admin_messages import said
from tests.staff.conftest import staff_user

pytestmark = pytest.mark.django_db
K = LedgerEntry.Kind
D = Decimal


def url(name, of, **query):
    address = reverse(f"admin:booking_course_{name}", args=[of.pk])
    return address + ("?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else "")


@pytest.fixture
def course(now, patient, treatment, practitioner):
    """A course of 3 at £100 each: 10 June, 8 July and 5 August 2026 (the clock: 1 June)."""
    return book(patient, treatment, practitioner, [at(6, 10), at(7, 8), at(8, 5)])


@pytest.fixture
def desk(reception, client_for):
    return client_for(reception)


@pytest.fixture
def policy(db):
    rules = BookingRules.current()
    rules.late_cancel_outcome, rules.late_cancel_fee = "fee", D("30.00")
    rules.late_move_outcome, rules.late_move_fee = "fee", D("15.00")
    rules.full_clean()
    rules.save()
    return rules


def late_fee(course, by):
    """Session 1 cancelled 5 hours before it starts: the policy's £30 fee."""
    first = course.sessions.get(number=1)
    services.session_cancel(
        session=first, now=first.start - timedelta(hours=5), by_staff=True, by=by
    )
    return course.ledger.get(kind=K.FEE)


# --- payments and receipts -------------------------------------------------------------


def test_reception_records_a_card_payment_and_the_patient_gets_a_receipt(
    desk,
    course,
    reception,
):
    page = desk.get(url("payment", course))
    assert page.status_code == 200
    assert b'name="receipt"' in page.content and b"checked" in page.content
    response = desk.post(
        url("payment", course), {"amount": "100", "method": "card", "receipt": "on"}
    )
    assert response.status_code == 302 and response["Location"].endswith("#ledger")
    payment = course.ledger.get(kind=K.PAYMENT)
    assert (payment.amount, payment.method, payment.recorded_by) == (D("100.00"), "card", reception)
    messages = said(response)
    assert "Payment of £100.00 by card terminal recorded. Still to pay: £200.00." in messages
    assert "The receipt is emailed to the patient." in messages
    (email,) = mail.outbox
    assert email.extra_headers[KIND_HEADER] == "booking.receipt"
    assert email.to == [course.patient.user.email]
    assert "£100.00" in email.body and "Still to pay: £200.00" in email.body
    receipt = ReceiptSent.objects.get(entry=payment)
    assert receipt.sent_by == reception and receipt.message_id == email.extra_headers["Message-ID"]
    ledger_page = desk.get(reverse("admin:booking_course_change", args=[course.pk]))
    text = ledger_page.content.decode()
    assert "Account and ledger" in text and "Email the receipt again" in text


def test_a_payment_without_a_receipt_sends_nothing(desk, course):
    desk.post(url("payment", course), {"amount": "50.00", "method": "cash", "note": "Till 2"})
    assert mail.outbox == [] and not ReceiptSent.objects.exists()
    assert course.ledger.get(kind=K.PAYMENT).reason == "Paid by cash: Till 2"


@pytest.mark.parametrize(
    ("amount", "error"),
    [
        ("1000", "That is more than the £300.00 still to pay."),
        ("abc", "Enter the amount as a number, like 45.00."),
        ("0", "Enter an amount above zero."),
        ("", "Enter the amount, like 45.00."),
    ],
)
def test_a_payment_the_course_does_not_owe_is_refused_beside_the_amount(
    desk,
    course,
    amount,
    error,
):
    response = desk.post(url("payment", course), {"amount": amount, "method": "card"})
    assert response.status_code == 200
    assert response.context["form"].errors["amount"] == [error]
    assert not course.ledger.filter(kind=K.PAYMENT).exists()


def test_when_the_mail_server_fails_the_payment_stays_and_the_receipt_can_be_sent_again(
    desk,
    course,
):
    with mock.patch(
        "django.core.mail.EmailMultiAlternatives.send",
        side_effect=smtplib.SMTPConnectError(421, ""),
    ):
        response = desk.post(
            url("payment", course), {"amount": "100", "method": "card", "receipt": "on"}
        )
    payment = course.ledger.get(kind=K.PAYMENT)
    assert any("The receipt could not be sent; try again" in m for m in said(response))
    assert not ReceiptSent.objects.exists()
    again = desk.post(url("receipt", course), {"entry": payment.pk})
    assert "The receipt is emailed to the patient." in said(again)
    assert ReceiptSent.objects.filter(entry=payment).count() == 1 and len(mail.outbox) == 1


# --- refunds, waivers, corrections ------------------------------------------------------


def test_a_refund_shows_what_is_refundable_and_never_gives_back_more(
    desk,
    course,
    reception,
):
    ledger.payment_record(course=course, amount="300", method="card", by=reception)
    services.session_cancel(session=course.sessions.get(number=3), by=reception)
    page = desk.get(url("refund", course))
    assert "Up to <strong>£100.00</strong> can be refunded" in page.content.decode()
    too_much = desk.post(
        url("refund", course), {"amount": "150", "method": "card", "reason": "Session 3 off"}
    )
    assert too_much.context["form"].errors["amount"] == ["At most £100.00 can be refunded."]
    no_reason = desk.post(url("refund", course), {"amount": "100", "method": "card"})
    assert no_reason.context["form"].errors["reason"] == ["Say why the money is given back."]
    done = desk.post(
        url("refund", course),
        {"amount": "100", "method": "card", "reason": "Session 3 off", "receipt": "on"},
    )
    assert done.status_code == 302
    refund = course.ledger.get(kind=K.REFUND)
    assert (refund.amount, refund.reason) == (D("100.00"), "Session 3 off")
    assert "refund" in mail.outbox[-1].subject.lower()


def test_a_policy_fee_is_waived_only_with_a_reason(desk, course, policy, reception):
    fee = late_fee(course, reception)
    page = desk.get(url("waive", course, entry=fee.pk))
    assert page.status_code == 200 and page.context["form"].initial == {"entry": fee.pk}
    no_reason = desk.post(url("waive", course), {"entry": fee.pk, "reason": " "})
    assert no_reason.context["form"].errors["reason"] == ["Say why the policy is waived."]
    assert not course.ledger.filter(kind=K.WAIVER).exists()
    done = desk.post(url("waive", course), {"entry": fee.pk, "reason": "Her child was ill."})
    assert done.status_code == 302
    waiver = course.ledger.get(kind=K.WAIVER)
    assert (waiver.refers_to, waiver.amount, waiver.recorded_by) == (fee, D("30.00"), reception)
    again = desk.post(url("waive", course), {"entry": fee.pk, "reason": "Twice"})
    assert again.status_code == 200 and course.ledger.filter(kind=K.WAIVER).count() == 1


def test_a_payment_is_corrected_by_a_new_entry(desk, course, reception):
    payment = ledger.payment_record(course=course, amount="80", method="cash", by=reception)
    no_reason = desk.post(url("correct", course), {"entry": payment.pk, "reason": ""})
    assert no_reason.context["form"].errors["reason"] == ["Say what was wrong."]
    desk.post(url("correct", course), {"entry": payment.pk, "reason": "Typed 80, took 60"})
    reversal = course.ledger.get(kind=K.PAYMENT_REVERSED)
    assert (reversal.refers_to, reversal.amount) == (payment, D("80.00"))
    payment.refresh_from_db()
    assert payment.amount == D("80.00")  # never edited


def test_another_courses_entry_is_not_found(desk, course, policy, reception, treatment, now):
    other = book(PatientFactory(), treatment, course.sessions.first().practitioner, [at(6, 11)])
    theirs = ledger.payment_record(course=other, amount="10", method="cash", by=reception)
    fee = late_fee(course, reception)
    assert desk.get(url("waive", other, entry=fee.pk)).status_code == 404
    assert desk.post(url("waive", other), {"entry": fee.pk, "reason": "x"}).status_code == 404
    assert desk.post(url("correct", course), {"entry": theirs.pk, "reason": "x"}).status_code == 404
    assert desk.post(url("receipt", course), {"entry": theirs.pk}).status_code == 404
    assert desk.post(url("receipt", course), {"entry": "1e3"}).status_code == 404
    assert not LedgerEntry.objects.filter(kind__in=[K.WAIVER, K.PAYMENT_REVERSED]).exists()


def test_without_the_permission_the_desk_is_closed(
    course,
    clinician,
    editor,
    client_for,
):
    for user in (clinician, editor):
        client = client_for(user)
        for name in ("payment", "refund", "waive", "correct"):
            assert client.get(url(name, course)).status_code == 403, (user, name)
        assert (
            client.post(url("payment", course), {"amount": "1", "method": "cash"}).status_code
            == 403
        )
    # The clinic narrowed reception: it sees the ledger, but may not take money or waive.
    Group.objects.get(name=RECEPTION).permissions.remove(
        *Permission.objects.filter(codename__in=["record_payment", "waive_policy"])
    )
    client = client_for(staff_user(RECEPTION, "viewer@clinic.example"))
    assert client.get(url("payment", course)).status_code == 403
    assert client.get(url("waive", course)).status_code == 403
    page = client.get(reverse("admin:booking_course_change", args=[course.pk])).content.decode()
    assert "Account and ledger" in page and "Record a payment" not in page
    assert not course.ledger.filter(kind=K.PAYMENT).exists()


def test_a_missing_course_answers_as_the_admin_does(desk):
    response = desk.get(reverse("admin:booking_course_payment", args=[987654]))
    assert response.status_code == 302 and response["Location"] == reverse("admin:index")


def test_a_clinician_does_not_see_the_ledger_of_their_own_course(
    treatment, clinician, client_for, now
):
    from booking.models import Practitioner

    own = book(PatientFactory(), treatment, Practitioner.objects.get(user=clinician), [at(6, 4)])
    page = client_for(clinician).get(reverse("admin:booking_course_change", args=[own.pk]))
    assert page.status_code == 200 and "Account and ledger" not in page.content.decode()


# --- the ledger's own admin: read only ----------------------------------------------------


def test_entries_cannot_be_added_changed_or_deleted_through_the_admin(
    course,
    reception,
    superuser,
    client_for,
):
    entry = course.ledger.get(kind=K.SOLD)
    for user in (reception, superuser):
        client = client_for(user)
        listing = client.get(reverse("admin:booking_ledgerentry_changelist"))
        assert listing.status_code == 200 and listing.context["action_form"] is None
        change = reverse("admin:booking_ledgerentry_change", args=[entry.pk])
        page = client.get(change)
        assert page.status_code == 200 and b'name="amount"' not in page.content
        assert client.post(change, {"amount": "1", "reason": "x"}).status_code == 403
        delete = reverse("admin:booking_ledgerentry_delete", args=[entry.pk])
        assert client.post(delete, {"post": "yes"}).status_code == 403
        assert client.get(reverse("admin:booking_ledgerentry_add")).status_code == 403
    entry.refresh_from_db()
    assert entry.amount == D("300.00")


def test_the_ledger_list_filters_by_kind_and_searches_by_patient(course, desk, reception):
    ledger.payment_record(course=course, amount="20", method="voucher", by=reception)
    listing = reverse("admin:booking_ledgerentry_changelist")
    assert desk.get(listing, {"kind__exact": "payment"}).context["cl"].result_count == 1
    assert desk.get(listing, {"method__exact": "voucher"}).context["cl"].result_count == 1
    name = course.patient.full_name
    assert desk.get(listing, {"q": name}).context["cl"].result_count == 2
    assert desk.get(listing, {"q": "Nobody Here"}).context["cl"].result_count == 0
    receipts = desk.get(reverse("admin:booking_receiptsent_changelist"))
    assert receipts.status_code == 200


# --- the day's takings and the outstanding balances ----------------------------------------


def test_the_takings_of_the_day_the_clocks_go_back_count_its_25_hours(
    desk,
    course,
    reception,
):
    def london(day, hour, minute):
        return datetime(2026, 10, day, hour, minute, tzinfo=LONDON)

    def pay(amount, method, when):
        return ledger.payment_record(
            course=course, amount=amount, method=method, by=reception, now=when
        )

    pay("10", "card", london(24, 23, 50))  # the day before
    pay("50", "card", london(25, 0, 30))  # 23:30 UTC on the 24th, in British Summer Time
    cash = pay("40", "cash", london(25, 12, 0))
    ledger.entry_correct(entry=cash, by=reception, reason="Not taken", now=london(25, 13, 0))
    pay("240", "voucher", london(25, 23, 30))  # the 25th hour's day: 23:30 GMT
    services.session_cancel(session=course.sessions.get(number=3), by=reception)
    ledger.refund_record(
        course=course,
        amount="30",
        method="cash",
        by=reception,
        reason="Gift",
        now=london(25, 22, 0),
    )
    ledger.refund_record(
        course=course,
        amount="20",
        method="card",
        by=reception,
        reason="Next",
        now=london(26, 0, 10),
    )

    page = desk.get(reverse("admin:booking_ledgerentry_takings"), {"day": "2026-10-25"})
    takings = page.context["takings"]
    assert len(takings.entries) == 5
    (totals,) = takings.totals
    by_method = {m.method: (m.taken, m.refunded, m.net) for m in totals.methods}
    assert by_method == {
        "card": (D("50.00"), D("0"), D("50.00")),
        "cash": (D("0.00"), D("30.00"), D("-30.00")),
        "voucher": (D("240.00"), D("0"), D("240.00")),
    }
    assert (totals.taken, totals.refunded, totals.net) == (D("290.00"), D("30.00"), D("260.00"))
    assert "£260.00" in page.content.decode()

    download = desk.get(reverse("admin:booking_ledgerentry_takings_csv"), {"day": "2026-10-25"})
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    assert rows[0][:3] == ["When", "Patient", "Treatment"] and len(rows) == 6
    assert [(r[0], r[4], r[6], r[7]) for r in rows[1:]] == [
        ("2026-10-25 00:30", "Card terminal", "50.00", ""),
        ("2026-10-25 12:00", "Cash", "40.00", ""),
        ("2026-10-25 13:00", "Cash", "", "40.00"),
        ("2026-10-25 22:00", "Cash", "", "30.00"),
        ("2026-10-25 23:30", "Voucher", "240.00", ""),
    ]


def test_takings_default_to_today_and_refuse_a_bad_day_in_words(desk, now):
    page = desk.get(reverse("admin:booking_ledgerentry_takings"))
    assert page.status_code == 200 and page.context["takings"].day == now.date()
    bad = desk.get(reverse("admin:booking_ledgerentry_takings"), {"day": "31-02-2026"})
    assert bad.status_code == 200
    assert bad.context["form"].errors["day"] == ["Enter a date, like 2026-06-01."]


def test_outstanding_balances_list_both_ways_and_the_csv_keeps_names_as_text(
    desk,
    course,
    reception,
    treatment,
    now,
):
    practitioner = course.sessions.first().practitioner
    sly = PatientFactory(full_name='=HYPERLINK("http://evil.example","Click")', phone="+44 117")
    owing = book(sly, treatment, practitioner, [at(6, 12)])
    paid_up = book(PatientFactory(full_name="Paid Up"), treatment, practitioner, [at(6, 15)])
    ledger.payment_record(course=paid_up, amount="100", method="card", by=reception)
    ledger.payment_record(course=course, amount="300", method="card", by=reception)
    services.session_cancel(session=course.sessions.get(number=3), by=reception)

    page = desk.get(reverse("admin:booking_ledgerentry_outstanding"))
    assert [c.pk for c in page.context["owed"]] == [owing.pk]
    assert [(c.pk, c.owed_back) for c in page.context["owed_back"]] == [(course.pk, D("100.00"))]
    assert "Paid Up" not in page.content.decode()

    download = desk.get(reverse("admin:booking_ledgerentry_outstanding_csv"))
    rows = list(csv.reader(io.StringIO(download.content.decode())))
    by_name = {row[0]: row for row in rows[1:]}
    assert set(by_name) == {"'" + sly.full_name, course.patient.full_name}
    assert by_name["'" + sly.full_name][1] == "+44 117"  # a phone number stays as it is
    assert by_name["'" + sly.full_name][8] == "100.00"
    assert by_name[course.patient.full_name][9] == "100.00"


def test_reports_are_receptions_not_clinicians_or_editors(clinician, editor, desk):
    others = []
    for user in (clinician, editor):
        others.append(Client())
        others[-1].force_login(user)
    for name in ("takings", "takings_csv", "outstanding", "outstanding_csv"):
        address = reverse(f"admin:booking_ledgerentry_{name}")
        assert desk.get(address).status_code == 200, name
        for other in others:
            assert other.get(address).status_code == 403, name
    index = desk.get(reverse("admin:index")).content.decode()
    assert "The day's takings" in index and "Outstanding balances" in index


# --- the policy on staff's cancel page ---------------------------------------------------


def test_cancelling_inside_the_notice_shows_the_fee_and_may_waive_it(
    desk,
    course,
    policy,
    reception,
):
    first = course.sessions.get(number=1)
    cancel = reverse("admin:booking_session_cancel", args=[first.pk])
    with time_machine.travel(first.start - timedelta(hours=5), tick=False):
        page = desk.get(cancel).content.decode()
        assert "Cancelling now: £30.00 fee, per the clinic&#x27;s policy." in page
        assert 'name="waive_reason"' in page
        response = desk.post(
            cancel, {"notify": "no", "later": "keep", "waive_reason": "Snowed in."}
        )
    assert response.status_code == 302
    waived = course.ledger.get(event="late_cancel")
    assert (waived.kind, waived.amount, waived.recorded_by) == (K.WAIVED, D("0"), reception)
    assert "Snowed in." in waived.reason
    assert not course.ledger.filter(kind=K.FEE).exists()


def test_outside_the_notice_the_cancel_page_says_nothing_of_the_policy(
    desk,
    course,
    policy,
):
    third = course.sessions.get(number=3)
    page = desk.get(reverse("admin:booking_session_cancel", args=[third.pk])).content.decode()
    assert "per the clinic" not in page and 'name="waive_reason"' not in page


def test_a_late_move_page_shows_the_fee(desk, course, policy):
    first = course.sessions.get(number=1)
    with time_machine.travel(first.start - timedelta(hours=5), tick=False):
        page = desk.get(reverse("admin:booking_session_move", args=[first.pk])).content.decode()
    assert "Moving now: £15.00 fee, per the clinic&#x27;s policy." in page


def test_the_bulk_cancel_records_who_cancelled(desk, course, reception):
    third = course.sessions.get(number=3)
    desk.post(
        reverse("admin:booking_session_changelist"),
        {"action": "cancel_without_notice", "_selected_action": [third.pk], "post": "yes"},
    )
    released = course.ledger.get(kind=K.RELEASED)
    assert released.recorded_by == reception


@pytest.mark.parametrize("who", ["nobody"])
def test_a_patient_cannot_reach_the_desk(course, client, who):
    client.force_login(UserFactory(email="pat@example.org"))
    response = client.get(url("payment", course))
    assert response.status_code == 302 and "/login/" in response["Location"]
