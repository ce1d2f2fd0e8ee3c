"""Prices and the course ledger: exact money, what each booking change records, the desk."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import translation

from booking import attendance, services
from booking.ledger import services as ledger
from booking.ledger.models import AppendOnly, LedgerEntry
from booking.ledger.selectors import course_account
from booking.models import BookingRules, Session
from booking.services import BookingError
from clinic.money import course_price, exact, money, shares
from tests.booking.factories import UserFactory
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book

pytestmark = pytest.mark.django_db
K = LedgerEntry.Kind
D = Decimal


def desk():
    return UserFactory(is_staff=True, full_name="Rhea Desk")


# -- money: pure ------------------------------------------------------------------------


def test_shares_add_up_to_the_total_to_the_penny():
    assert shares(D("500"), 3) == [D("166.67"), D("166.67"), D("166.66")]
    assert sum(shares(D("500"), 3)) == D("500.00")
    assert shares(D("0.05"), 3) == [D("0.02"), D("0.02"), D("0.01")]


def test_rounding_is_half_up_to_the_currencys_smallest_unit():
    assert exact(D("10.005")) == D("10.01")
    assert exact(D("10.004")) == D("10.00")
    assert exact(D("1234.5"), "JPY") == D("1235")


def test_a_package_sets_the_rate_for_its_length_and_longer_never_shorter():
    kwargs = {"session_price": D("180"), "package_price": D("480"), "package_sessions": 3}
    three, four, two = (course_price(sessions=n, **kwargs) for n in (3, 4, 2))
    assert (three.total, three.package, three.saving) == (D("480.00"), True, D("60.00"))
    assert (four.total, four.saving) == (D("640.00"), D("80.00"))
    assert (two.total, two.package, two.saving) == (D("360.00"), False, D("0"))


def test_an_uneven_package_rate_rounds_once_for_the_total():
    price = course_price(
        sessions=4, session_price=D("200"), package_price=D("500"), package_sessions=3
    )
    assert price.total == D("666.67") and sum(price.each) == price.total


@pytest.mark.parametrize(
    ("code", "language", "written"),
    [("GBP", "en-gb", "£1,450.50"), ("EUR", "en-gb", "€1,450.50"), ("JPY", "en-gb", "JP¥1,451")],
)
def test_money_is_written_with_its_currency(code, language, written):
    with translation.override(language):
        assert money(D("1450.50"), code) == written


# -- prices kept with the course ------------------------------------------------------


@pytest.fixture
def priced(db):
    return TreatmentFactory(session_price=D("180.00"), package_price=D("480.00"))


@pytest.fixture
def sold(now, patient, priced, practitioner):
    practitioner.treatments.add(priced)
    return book(patient, priced, practitioner, [at(6, 10), at(7, 8), at(8, 5)])


def test_a_course_is_sold_at_the_package_price_and_each_session_carries_its_share(sold):
    assert (sold.price, sold.currency, sold.session_rate) == (D("480.00"), "GBP", D("160.00"))
    assert [s.price for s in sold.sessions.order_by("number")] == [D("160.00")] * 3
    (entry,) = sold.ledger.all()
    assert (entry.kind, entry.amount) == (K.SOLD, D("480.00"))
    account = course_account(sold)
    assert (account.due, account.paid, account.sessions_sold) == (D("480.00"), D("0"), 3)


def test_a_price_change_leaves_a_sold_course_alone(sold, priced):
    priced.session_price, priced.package_price = D("250.00"), D("600.00")
    priced.save()
    sold.refresh_from_db()
    assert sold.price == D("480.00") and course_account(sold).due == D("480.00")


@override_settings(CLINIC_CURRENCY="EUR")
def test_a_course_keeps_the_currency_it_was_sold_in(now, patient, priced, practitioner):
    practitioner.treatments.add(priced)
    course = book(patient, priced, practitioner, [at(6, 10)])
    with override_settings(CLINIC_CURRENCY="GBP"):
        assert course.ledger.get().currency == "EUR"
        assert money(course.price, course.currency) == "€180.00"


# -- what booking changes record ------------------------------------------------------


def test_cancelling_outside_the_notice_takes_the_session_off_the_price(sold, now):
    services.session_cancel(session=sold.sessions.get(number=3))
    released = sold.ledger.get(kind=K.RELEASED)
    assert (released.amount, released.session.number, released.event) == (D("160.00"), 3, "")
    assert course_account(sold).due == D("320.00")


@pytest.fixture
def policy(db):
    rules = BookingRules.current()
    rules.late_cancel_outcome, rules.late_cancel_fee = "fee", D("30.00")
    rules.late_move_outcome, rules.late_move_fee = "fee", D("15.00")
    rules.no_show_outcome = "used"
    rules.full_clean()
    rules.save()
    return rules


def test_a_late_cancellation_charges_the_fee_once_with_its_reason(sold, policy):
    staff = desk()
    first = sold.sessions.get(number=1)
    services.session_cancel(
        session=first, now=first.start - timedelta(hours=5), by_staff=True, by=staff
    )
    fee = sold.ledger.get(kind=K.FEE)
    assert (fee.amount, fee.event, fee.recorded_by) == (D("30.00"), "late_cancel", staff)
    assert "Cancelled 5 hours before the session" in fee.reason and "£30.00" in fee.reason
    assert course_account(sold).due == D("480.00") - D("160.00") + D("30.00")


def test_staff_may_waive_the_policy_at_the_time_with_a_reason(sold, policy):
    staff = desk()
    first = sold.sessions.get(number=1)
    services.session_cancel(
        session=first,
        now=first.start - timedelta(hours=5),
        by_staff=True,
        by=staff,
        waive_reason="The practitioner is ill.",
    )
    waived = sold.ledger.get(event="late_cancel")
    assert (waived.kind, waived.amount, waived.recorded_by) == (K.WAIVED, D("0"), staff)
    assert "The practitioner is ill." in waived.reason
    assert course_account(sold).due == D("320.00")


def test_a_late_move_charges_its_fee(sold, policy, practitioner):
    last = sold.sessions.get(number=3)
    services.session_move(
        session=last,
        new_start=last.start + timedelta(days=1),
        now=last.start - timedelta(hours=2),
        by_staff=True,
    )
    assert sold.ledger.get(kind=K.FEE).event == "late_move"


def test_a_move_to_where_the_session_already_is_charges_nothing(sold, policy):
    """Found by the state machine: staff "moving" a session inside the notice to its own
    time and practitioner (the first free time the page offers) were charged the fee."""
    last = sold.sessions.get(number=3)
    services.session_move(
        session=last, new_start=last.start, now=last.start - timedelta(hours=2), by_staff=True
    )
    assert not sold.ledger.filter(event="late_move").exists()


def test_a_no_show_counted_as_used_and_an_attended_session_used(sold, policy):
    first, second = sold.sessions.order_by("number")[:2]
    attendance.session_mark_attended(session=first, by=None, now=first.start)
    attendance.session_mark_no_show(
        session=second, by=None, now=second.start + timedelta(minutes=20)
    )
    used = sold.ledger.filter(kind=K.USED).order_by("session__number")
    assert [(u.session.number, u.event) for u in used] == [(1, ""), (2, "no_show")]
    account = course_account(sold)
    assert (account.sessions_used, account.sessions_sold, account.due) == (2, 3, D("480.00"))


# -- at the desk ----------------------------------------------------------------------


def test_a_payment_never_exceeds_what_is_owed(sold):
    staff = desk()
    ledger.payment_record(course=sold, amount="200", method="card", by=staff)
    with pytest.raises(BookingError, match="more than the £280.00 still to pay"):
        ledger.payment_record(course=sold, amount="280.01", method="cash", by=staff)
    ledger.payment_record(course=sold, amount="280.00", method="cash", by=staff)
    assert course_account(sold).due == D("0")


@pytest.mark.parametrize("amount", ["", "abc", "-5", "0", "1e9", "NaN", "Infinity"])
def test_a_bad_amount_is_refused_in_words(sold, amount):
    with pytest.raises(BookingError):
        ledger.payment_record(course=sold, amount=amount, method="card", by=desk())
    assert sold.ledger.count() == 1


def test_a_refund_only_of_what_is_owed_back_and_never_more_than_paid(sold, now):
    staff = desk()
    ledger.payment_record(course=sold, amount="480", method="card", by=staff)
    with pytest.raises(BookingError, match="Nothing on this course is owed back"):
        ledger.refund_record(course=sold, amount="1", method="card", by=staff, reason="x")
    services.session_cancel(session=sold.sessions.get(number=3))
    with pytest.raises(BookingError, match="At most £160.00"):
        ledger.refund_record(course=sold, amount="200", method="card", by=staff, reason="x")
    ledger.refund_record(
        course=sold, amount="160", method="card", by=staff, reason="Session 3 cancelled"
    )
    account = course_account(sold)
    assert (account.due, account.paid, account.refunded) == (D("0"), D("320.00"), D("160.00"))


def test_a_waiver_credits_the_fee_once_with_its_author(sold, policy):
    first = sold.sessions.get(number=1)
    services.session_cancel(session=first, now=first.start - timedelta(hours=5), by_staff=True)
    fee = sold.ledger.get(kind=K.FEE)
    staff = desk()
    with pytest.raises(BookingError, match="Say why"):
        ledger.outcome_waive(entry=fee, by=staff, reason="  ")
    waiver = ledger.outcome_waive(entry=fee, by=staff, reason="First time; let off.")
    assert (waiver.amount, waiver.refers_to, waiver.recorded_by) == (fee.amount, fee, staff)
    with pytest.raises(BookingError, match="waived already"):
        ledger.outcome_waive(entry=fee, by=staff, reason="again")
    assert course_account(sold).fees - course_account(sold).waived == D("0")


def test_a_correction_is_a_new_entry_and_entries_never_change(sold):
    staff = desk()
    payment = ledger.payment_record(course=sold, amount="100", method="cash", by=staff)
    reversal = ledger.entry_correct(entry=payment, by=staff, reason="Was card, not cash")
    assert reversal.kind == K.PAYMENT_REVERSED and course_account(sold).paid == D("0")
    payment.amount = D("1")
    with pytest.raises(AppendOnly):
        payment.save()
    with pytest.raises(AppendOnly):
        LedgerEntry.objects.filter(pk=payment.pk).update(amount=D("1"))
    with pytest.raises(AppendOnly):
        payment.delete()
    with pytest.raises(AppendOnly):
        LedgerEntry.objects.all().delete()


def test_a_course_before_prices_has_no_ledger(sold):
    Session.objects.filter(course=sold)  # the course as it was
    type(sold).objects.filter(pk=sold.pk).update(price=None)
    sold.refresh_from_db()
    assert course_account(sold) is None
    with pytest.raises(BookingError, match="before prices"):
        ledger.payment_record(course=sold, amount="1", method="card", by=desk())


@pytest.mark.parametrize(
    ("outcome", "fee", "field"),
    [("fee", "0", "late_cancel_fee"), ("nothing", "10", "late_cancel_fee"), ("fee", "25", None)],
)
def test_the_policy_asks_for_a_fee_exactly_when_the_outcome_is_a_fee(outcome, fee, field):
    rules = BookingRules.current()
    rules.late_cancel_outcome, rules.late_cancel_fee = outcome, D(fee)
    if field is None:
        rules.full_clean()
        return
    with pytest.raises(ValidationError) as refused:
        rules.full_clean()
    assert field in refused.value.message_dict


def test_time_off_over_a_session_inside_the_notice_waives_the_policy(sold, policy):
    from booking.time_off import CANCEL, time_off_add

    staff = desk()
    first = sold.sessions.get(number=1)
    time_off_add(
        practitioner=first.practitioner,
        start=first.start,
        end=first.end,
        reason="Off sick",
        resolutions={first.pk: CANCEL},
        now=first.start - timedelta(hours=3),
        by=staff,
    )
    outcome = sold.ledger.get(event="late_cancel")
    assert (outcome.kind, outcome.amount, outcome.recorded_by) == (K.WAIVED, D("0"), staff)
    assert "the clinic changed this session" in outcome.reason
    assert course_account(sold).due == D("320.00")
