"""The ledger under races on a real database: each desk write sees the others, each outcome once.

Threads released together by a barrier (tests/booking/test_races.py `race`):
- two desk payments for one course at once: the course row is locked
  (booking/ledger/services.py `_locked`), so the second sees the first's entry;
  together more than is owed, one is refused in words; together within it, both count;
- a staff cancellation inside the notice racing a no-show mark of the same session:
  both lock the session row (the cancellation after the patient's), so one
  happens and the other finds the session changed; the ledger has one policy
  outcome and one release (or session used), and nothing deadlocks.
"""

from datetime import timedelta
from decimal import Decimal

import pytest

from booking import attendance, services
from booking.ledger import services as ledger
from booking.ledger.models import LedgerEntry
from booking.ledger.selectors import course_account
from booking.models import BookingRules, Session
from booking.services import BookingError
from tests.booking.conftest import NOW
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory
from tests.booking.test_races import race
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
K = LedgerEntry.Kind
D = Decimal


@pytest.fixture
def course(db):
    """Three sessions of a £480 package: £480.00 owed."""
    treatment = TreatmentFactory(session_price=D("180.00"), package_price=D("480.00"))
    practitioner = PractitionerFactory(treatments=[treatment])
    return book(PatientFactory(), treatment, practitioner, [at(6, 10), at(7, 8), at(8, 5)], now=NOW)


@pytest.fixture
def desk(db):
    return UserFactory(is_staff=True, full_name="Rhea Desk")


def pay(course, amount, desk):
    return lambda: ledger.payment_record(
        course=course, amount=amount, method="card", by=desk, now=NOW
    )


def test_two_payments_at_once_that_together_exceed_what_is_owed_one_is_refused(course, desk):
    results, errors = race([pay(course, "300.00", desk), pay(course, "250.00", desk)])
    assert len(results) == 1 and len(errors) == 1, errors
    (error,) = errors
    assert isinstance(error, BookingError)
    left = D("480.00") - results[0].amount
    assert error.message == f"That is more than the £{left} still to pay."
    assert course.ledger.filter(kind=K.PAYMENT).count() == 1
    assert course_account(course).due == left


def test_two_payments_at_once_that_fit_are_both_recorded(course, desk):
    results, errors = race([pay(course, "300.00", desk), pay(course, "180.00", desk)])
    assert errors == [] and len(results) == 2
    account = course_account(course)
    assert (account.paid, account.due) == (D("480.00"), D("0"))


@pytest.mark.parametrize("no_show_outcome", ["used", "fee"])
def test_a_late_cancellation_racing_a_no_show_mark_happens_once(course, desk, no_show_outcome):
    rules = BookingRules.current()
    rules.late_cancel_outcome, rules.late_cancel_fee = "fee", D("30.00")
    rules.no_show_outcome = no_show_outcome
    rules.no_show_fee = D("45.00") if no_show_outcome == "fee" else D("0")
    rules.full_clean()
    rules.save()
    practitioner = course.sessions.first().practitioner
    for day in range(4):  # the race goes either way: four rounds, a course each
        if day:
            starts = [s + timedelta(weeks=day) for s in (at(6, 10), at(7, 8), at(8, 5))]
            course = book(PatientFactory(), course.treatment, practitioner, starts, now=NOW)
        first = course.sessions.get(number=1)
        results, errors = race(
            [
                lambda first=first: services.session_cancel(
                    session=first, now=first.start - timedelta(hours=3), by_staff=True, by=desk
                ),
                lambda first=first: attendance.session_mark_no_show(
                    session=first, by=desk, now=first.start + timedelta(minutes=20)
                ),
            ]
        )
        assert len(results) == 1 and len(errors) == 1, errors
        assert isinstance(errors[0], BookingError), errors
        first.refresh_from_db()
        entries = list(first.ledger.all())
        outcomes = [e for e in entries if e.event]
        assert len(outcomes) == 1, entries
        (outcome,) = outcomes
        given = [
            e.kind for e in entries if e.kind == K.RELEASED or (e.kind == K.USED and not e.event)
        ]
        if first.status == Session.Status.CANCELLED:
            assert (outcome.event, outcome.kind, outcome.amount) == ("late_cancel", K.FEE, D(30))
            assert given == [K.RELEASED]
        elif no_show_outcome == "used":
            assert first.status == Session.Status.NO_SHOW
            assert (outcome.event, outcome.kind, outcome.amount) == ("no_show", K.USED, first.price)
            assert given == []  # counted as used: not taken off the price
        else:
            assert first.status == Session.Status.NO_SHOW
            assert (outcome.event, outcome.kind, outcome.amount) == ("no_show", K.FEE, D(45))
            assert given == [K.RELEASED]
