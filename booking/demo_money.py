"""The demo's money (booking/demo.py calls `seed`): what a normal day's ledger holds.

Through the services, as the desk and the booking services would: a course paid
in full, one part paid (a card deposit), one with a late-cancellation fee still
to pay, one whose fee reception waived with a reason, a no-show counted as used
(the demo's policy), a refund after a cancelled session, and a voucher payment.

The demo's microneedling asks a £50 deposit online (`deposit_set`), which only
shows once the clinic sets its Stripe keys.

The ledger is append-only, so each step is taken once: a course that already
has the entry (or the cancelled session) is left alone on a second run. A course
booked before prices were kept (price None) gets nothing.
"""

import contextlib
from collections.abc import Callable, Iterator
from datetime import timedelta
from decimal import Decimal

from django.utils import timezone

from . import services
from .ledger import services as ledger
from .ledger.models import LedgerEntry
from .ledger.selectors import course_account
from .models import BookingRules, Course, Session

K = LedgerEntry.Kind
NOTHING = BookingRules.Outcome.NOTHING


def policy_set(rules: BookingRules) -> None:
    """The demo clinic's cancellation policy: cancelling inside the notice costs £30, a
    late move nothing, a no-show counts as used. Set once: a policy staff chose stays."""
    if any(
        getattr(rules, f"{event}_outcome") != NOTHING
        for event in ("late_cancel", "late_move", "no_show")
    ):
        return
    rules.late_cancel_outcome, rules.late_cancel_fee = BookingRules.Outcome.FEE, Decimal("30")
    rules.no_show_outcome = BookingRules.Outcome.USED
    rules.full_clean()
    rules.save()


DEMO_DEPOSIT = Decimal("50.00")


def deposit_set(treatment) -> None:
    """The demo's microneedling asks a £50 deposit online (offered, not required: the
    booking rules' default). Without Stripe keys, as in `make run`, nothing changes for
    patients, who pay at the clinic; a clinic that adds its keys sees deposits work. Only
    when the treatment asks none: a deposit staff chose stays on a second run."""
    if treatment.deposit != treatment.Deposit.NONE or treatment.deposit_value:
        return
    treatment.deposit, treatment.deposit_value = treatment.Deposit.FIXED, DEMO_DEPOSIT
    treatment.full_clean()
    treatment.save(update_fields=["deposit", "deposit_value"])


def _has(course: Course | None, kind: str) -> bool:
    """True when there is nothing to do: no course, no prices, or the entry is there."""
    return course is None or course.price is None or course.ledger.filter(kind=kind).exists()


def _first_start(course: Course):
    return course.sessions.order_by("number").first().start


def _pay(course, amount, method, by, *, at=None, note="") -> None:
    if _has(course, K.PAYMENT):
        return
    ledger.payment_record(
        course=course,
        amount=course.price if amount is None else amount,
        method=method,
        by=by,
        now=at or _first_start(course),
        note=note,
    )


def _late_cancel(course, by, *, hours_before: int = 20) -> None:
    """The course's last session cancelled by phone, `hours_before` it started (the
    patient called: inside the notice, so the policy's fee)."""
    if course is None or course.sessions.filter(status=Session.Status.CANCELLED).exists():
        return
    last = course.sessions.filter(status=Session.Status.BOOKED).order_by("number").last()
    if last is None:
        return
    with contextlib.suppress(services.BookingError):
        services.session_cancel(
            session=last,
            now=last.start - timedelta(hours=hours_before),
            by_staff=True,
            by=by,
        )


def seed(
    course: Callable[..., Course | None],
    patients: Iterator,
    practitioners: list,
    *,
    today,
    staff,
    reception,
    mark_past: Callable,
    courses: dict[str, Course | None],
) -> None:
    """`course(key, patient, practitioner=, first_day=, hour=)` books a demo course once;
    `courses` holds the demo's other courses (by key); `mark_past` marks past sessions.
    The no-show (booking/demo.py marks it) needs nothing here: the policy counts it."""
    desk = reception or staff
    now = timezone.now()
    # Paid in full at the first visit; part paid (a card deposit).
    _pay(courses.get("demo-finished"), None, "card", desk)
    halfway = courses.get("demo-course-0")
    if halfway is not None and halfway.price is not None:
        _pay(halfway, halfway.session_rate, "card", desk, note="deposit")
    # Two courses whose last session the patient cancelled by phone the day before: one
    # owes the £30 fee still, the other's fee was waived with a reason.
    for key, who, waived in (("demo-late-fee", 0, False), ("demo-fee-waived", 1, True)):
        late = course(key, next(patients), practitioner=practitioners[who],
                      first_day=today - timedelta(days=70), hour=10)  # fmt: skip
        _late_cancel(late, desk)
        mark_past(late, staff, now)
        if late is None or late.price is None:
            continue
        fee = late.ledger.filter(kind=K.FEE).first()
        if waived and fee is not None and not _has(late, K.WAIVER):
            ledger.outcome_waive(
                entry=fee,
                by=desk,
                reason="Her car broke down on the way; first late cancellation, so let off.",
                now=fee.at + timedelta(hours=1),
            )
        _pay(late, late.session_rate * 2, "card", desk)
    # Paid in full, then the last session cancelled well ahead: its price refunded.
    refunded = course("demo-refunded", next(patients), practitioner=practitioners[2],
                      first_day=today - timedelta(days=40), hour=11)  # fmt: skip
    if refunded is not None and refunded.price is not None:
        _pay(refunded, None, "card", desk)
        mark_past(refunded, staff, now)
        last = refunded.sessions.filter(status=Session.Status.BOOKED).order_by("number").last()
        if last is not None and not _has(refunded, K.RELEASED):
            with contextlib.suppress(services.BookingError):  # online, well ahead
                services.session_cancel(session=last, now=now - timedelta(days=1))
        if not _has(refunded, K.REFUND) and (account := course_account(refunded)).refundable:
            ledger.refund_record(
                course=refunded,
                amount=account.refundable,
                method="card",
                by=desk,
                reason="Session 3 cancelled: its price back to the card.",
                now=now - timedelta(hours=20),
            )
    # A course to come paid with a gift voucher.
    _pay(courses.get("demo-busy-0"), None, "voucher", desk, at=now, note="gift voucher GV-2041")
