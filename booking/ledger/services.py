"""Writes to the course ledger: the only place its entries are made.

Two kinds of caller:
- the booking services, inside their own transactions, as things happen: a course
  sold (`course_sold`), a session added (`session_added`), attended
  (`session_used`), not given (`session_not_given`: cancelled or a no-show, with
  the cancellation policy's outcome) or moved late (`policy_apply`);
- the desk: payments, refunds, waivers and corrections, each its own transaction
  with the course row locked, so two recorded at once see each other's entry.

A course booked before prices were kept (price None) gets no entries.
"""

import logging
from collections.abc import Iterable
from datetime import datetime
from decimal import Decimal, InvalidOperation

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext

from clinic.money import exact, money

from .. import rulebook
from ..deposits.hooks import refund_check
from ..models import BookingRules, Course, Session
from ..services.errors import BookingError
from .models import DESK_METHODS, LedgerEntry
from .selectors import Account, course_account, deposit_unkept

logger = logging.getLogger(__name__)
K = LedgerEntry.Kind
# The most one entry may be (max_digits=10, decimal_places=2): more is a typing slip.
MOST = Decimal("99999999.99")


def _author_name(by) -> str:
    if by is None:
        return ""
    return (getattr(by, "full_name", "") or getattr(by, "email", "") or str(by))[:150]


def _entry(course: Course, kind: str, amount: Decimal, reason: str, *, now, by=None, **fields):
    entry = LedgerEntry(
        course=course,
        kind=kind,
        amount=exact(amount, course.currency),
        currency=course.currency,
        reason=reason[:300],
        recorded_by=by,
        recorded_by_name=_author_name(by),
        at=now,
        **fields,
    )
    entry.save()
    logger.info(
        "ledger entry",
        extra={"course_id": course.pk, "entry_id": entry.pk, "kind": kind, "event": entry.event},
    )
    return entry


def _priced(course: Course) -> bool:
    return course.price is not None


# -- as things happen (inside the booking services' transactions) -----------------------


def course_sold(*, course: Course, now: datetime, by=None) -> LedgerEntry | None:
    """The price the course was sold at: its first entry."""
    if not _priced(course):
        return None
    return _entry(
        course,
        K.SOLD,
        course.price,
        gettext("Course of %(count)d sessions") % {"count": course.sessions_planned}
        if course.sessions_planned != 1
        else gettext("One session"),
        now=now,
        by=by,
    )


def session_added(*, session: Session, now: datetime, by=None) -> LedgerEntry | None:
    """A session added to a course (or booked again), at the price it was added for."""
    return _session_entry(session, K.ADDED, gettext("Session %(number)d added"), now, by)


def session_used(*, session: Session, now: datetime, by=None) -> LedgerEntry | None:
    """The session happened: a record of what the price paid for (no change to the balance)."""
    return _session_entry(session, K.USED, gettext("Session %(number)d attended"), now, by)


def _session_entry(session: Session, kind: str, reason: str, now, by) -> LedgerEntry | None:
    """An entry of `kind` for the session at its own price; `reason` names it by number."""
    if not _priced(session.course):
        return None
    return _entry(
        session.course,
        kind,
        session.price,
        reason % {"number": session.number},
        session=session,
        now=now,
        by=by,
    )


def policy_for(
    session: Session, event: str, *, now: datetime, rules: BookingRules | None = None
) -> rulebook.PolicyOutcome | None:
    """What the policy makes of `event` for `session` now (the staff pages preview it): the
    online deposit not yet kept is read only when the policy would keep it."""
    rules = rules or BookingRules.current()
    keeps_deposit = getattr(rules, f"{event}_outcome") == rulebook.DEPOSIT
    return rulebook.policy_outcome(
        event,
        rules,
        start=session.start,
        now=now,
        deposit=deposit_unkept(session.course) if keeps_deposit else Decimal(0),
    )


def policy_apply(
    *,
    session: Session,
    event: str,
    now: datetime,
    rules: BookingRules | None = None,
    by=None,
    waive_reason: str = "",
) -> LedgerEntry | None:
    """The cancellation policy's outcome of `event` for `session`, as one entry (or none).

    Waived at the time (`waive_reason`, by staff), the outcome is recorded as waived:
    nothing charged, the reason and its author kept."""
    if not _priced(session.course):
        return None
    outcome = policy_for(session, event, now=now, rules=rules)
    if outcome is None:
        return None
    waive_reason = (waive_reason or "").strip()
    if waive_reason:
        if by is None:
            raise BookingError(gettext("Only staff can waive the cancellation policy."))
        return _entry(
            session.course,
            K.WAIVED,
            Decimal(0),
            gettext("%(outcome)s Waived: %(reason)s")
            % {"outcome": outcome.reason, "reason": waive_reason},
            session=session,
            event=event,
            now=now,
            by=by,
        )
    if outcome.outcome in (rulebook.FEE, rulebook.DEPOSIT):
        amount = outcome.fee
        kind = K.FEE if outcome.outcome == rulebook.FEE else K.KEPT
    else:
        amount = session.price
        kind = K.USED
    return _entry(
        session.course, kind, amount, outcome.reason, session=session, event=event, now=now, by=by
    )


def session_not_given(
    *,
    session: Session,
    event: str,
    now: datetime,
    rules: BookingRules | None = None,
    by=None,
    waive_reason: str = "",
) -> list[LedgerEntry]:
    """A session cancelled (`event` LATE_CANCEL) or missed (NO_SHOW): the policy's outcome,
    then, unless the policy counts it as used, the session's price taken off the course."""
    if not _priced(session.course):
        return []
    entries = []
    outcome = policy_apply(
        session=session, event=event, now=now, rules=rules, by=by, waive_reason=waive_reason
    )
    if outcome is not None:
        entries.append(outcome)
    if outcome is None or outcome.kind != K.USED:
        reason = (
            gettext("Session %(number)d missed")
            if event == rulebook.NO_SHOW
            else gettext("Session %(number)d cancelled")
        )
        entries.append(_session_entry(session, K.RELEASED, reason, now, by))
    refund_check(course=session.course, now=now)  # an online deposit may be owed back now
    return entries


def sessions_not_given(
    sessions: Iterable[Session], *, now: datetime, by=None, waive_reason: str = ""
) -> None:
    """Cancelled sessions: each its outcome (late or not) and its release."""
    rules = BookingRules.current()
    for session in sessions:
        session_not_given(
            session=session,
            event=rulebook.LATE_CANCEL,
            now=now,
            rules=rules,
            by=by,
            waive_reason=waive_reason,
        )


# -- online, through Stripe (booking/deposits/services.py) -------------------------------


def online_money(
    *, kind: str, amount: Decimal, ref: str, reason: str, now: datetime, course=None, checkout=None
) -> LedgerEntry | None:
    """An online payment or refund (`ref`: Stripe's id of it), on the course, or on the
    checkout when the payment came after its hold had gone. Recorded once: None when
    an entry for `ref` exists already (a webhook and our own call both report it)."""
    if LedgerEntry.objects.filter(provider_ref=ref).exists():
        return None
    currency = course.currency if course is not None else checkout.currency
    try:
        with transaction.atomic():
            entry = LedgerEntry(
                course=course,
                checkout=checkout,
                kind=kind,
                amount=exact(amount, currency),
                currency=currency,
                method=LedgerEntry.Method.ONLINE,
                provider_ref=ref,
                reason=reason[:300],
                at=now,
            )
            entry.save()
    except IntegrityError:  # recorded a moment ago by the other message
        return None
    logger.info(
        "ledger entry",
        extra={
            "course_id": getattr(course, "pk", None),
            "checkout_id": getattr(checkout, "pk", None),
            "entry_id": entry.pk,
            "kind": kind,
        },
    )
    return entry


def online_refund_failed(*, entry: LedgerEntry, now: datetime) -> LedgerEntry:
    """Stripe reports a refund we recorded has failed: a correction reverses it."""
    return LedgerEntry.objects.create(
        course=entry.course,
        checkout=entry.checkout,
        kind=K.REFUND_REVERSED,
        amount=entry.amount,
        currency=entry.currency,
        refers_to=entry,
        reason=gettext("The online refund failed"),
        at=now,
    )


# -- at the desk ------------------------------------------------------------------------


def _locked(course: Course) -> Course:
    # of=self: the course row only, not the patient or treatment it may be read with.
    return Course.objects.select_for_update(of=("self",)).get(pk=course.pk)


def _amount(value, course: Course) -> Decimal:
    try:
        amount = Decimal(str(value).strip())
        if not amount.is_finite():
            raise ValueError(value)
        amount = exact(amount, course.currency)
    except (InvalidOperation, ValueError, TypeError):
        raise BookingError(gettext("Enter the amount as a number, like 45.00.")) from None
    if amount <= 0:
        raise BookingError(gettext("Enter an amount above zero."))
    if amount > MOST:
        raise BookingError(gettext("That amount is too large."))
    return amount


def _account(course: Course) -> Account:
    account = course_account(course)
    if account is None:
        raise BookingError(gettext("This course was booked before prices were kept."))
    return account


@transaction.atomic
def payment_record(
    *, course: Course, amount, method: str, by, now: datetime | None = None, note: str = ""
) -> LedgerEntry:
    """A payment taken at the desk; never more than is still owed."""
    now = now or timezone.now()
    course = _locked(course)
    amount = _amount(amount, course)
    if method not in DESK_METHODS:
        raise BookingError(gettext("Choose how the patient paid."))
    account = _account(course)
    if amount > account.due:
        if account.due <= 0:
            raise BookingError(gettext("Nothing is owed on this course."))
        raise BookingError(
            gettext("That is more than the %(due)s still to pay.")
            % {"due": money(account.due, course.currency)}
        )
    note = (note or "").strip()
    reason = gettext("Paid by %(method)s") % {"method": LedgerEntry.Method(method).label.lower()}
    return _entry(
        course,
        K.PAYMENT,
        amount,
        f"{reason}: {note}" if note else reason,
        method=method,
        now=now,
        by=by,
    )


@transaction.atomic
def refund_record(
    *, course: Course, amount, method: str, by, reason: str, now: datetime | None = None
) -> LedgerEntry:
    """Money given back: only what the clinic owes, and never more than was paid."""
    now = now or timezone.now()
    course = _locked(course)
    amount = _amount(amount, course)
    reason = (reason or "").strip()
    if not reason:
        raise BookingError(gettext("Say why the money is given back."))
    if method not in DESK_METHODS:
        raise BookingError(gettext("Choose how the money is given back."))
    account = _account(course)
    if amount > account.refundable:
        if account.refundable <= 0:
            raise BookingError(gettext("Nothing on this course is owed back to the patient."))
        raise BookingError(
            gettext("At most %(most)s can be refunded.")
            % {"most": money(account.refundable, course.currency)}
        )
    return _entry(course, K.REFUND, amount, reason, method=method, now=now, by=by)


@transaction.atomic
def outcome_waive(
    *, entry: LedgerEntry, by, reason: str, now: datetime | None = None
) -> LedgerEntry:
    """Waive a policy outcome already recorded (a fee, or a session counted as used)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise BookingError(gettext("Say why the policy is waived."))
    course = _locked(entry.course)
    entry = LedgerEntry.objects.get(pk=entry.pk)
    if not entry.event or entry.kind not in (K.FEE, K.KEPT, K.USED):
        raise BookingError(gettext("Only a policy fee or a session counted as used is waived."))
    if LedgerEntry.objects.filter(refers_to=entry).exists():
        raise BookingError(gettext("This has been waived already."))
    try:
        with transaction.atomic():
            return _entry(
                course,
                K.WAIVER,
                entry.amount,
                gettext("Waived: %(reason)s") % {"reason": reason},
                session=entry.session,
                refers_to=entry,
                now=now,
                by=by,
            )
    except IntegrityError:
        raise BookingError(gettext("This has been waived already.")) from None


@transaction.atomic
def entry_correct(
    *, entry: LedgerEntry, by, reason: str, now: datetime | None = None
) -> LedgerEntry:
    """A payment or refund recorded by mistake, reversed by a new entry (never an edit)."""
    now = now or timezone.now()
    reason = (reason or "").strip()
    if not reason:
        raise BookingError(gettext("Say what was wrong."))
    course = _locked(entry.course)
    entry = LedgerEntry.objects.get(pk=entry.pk)
    kind = {K.PAYMENT: K.PAYMENT_REVERSED, K.REFUND: K.REFUND_REVERSED}.get(entry.kind)
    if kind is None:
        raise BookingError(gettext("Only a payment or a refund can be corrected."))
    if LedgerEntry.objects.filter(refers_to=entry).exists():
        raise BookingError(gettext("This has been corrected already."))
    account = _account(course)
    if kind == K.PAYMENT_REVERSED and account.paid - entry.amount < 0:
        raise BookingError(
            gettext("More has been refunded than would be left paid. Correct the refund first.")
        )
    try:
        with transaction.atomic():
            return _entry(
                course,
                kind,
                entry.amount,
                gettext("Corrected: %(reason)s") % {"reason": reason},
                refers_to=entry,
                now=now,
                by=by,
            )
    except IntegrityError:
        raise BookingError(gettext("This has been corrected already.")) from None
