"""Reads over the course ledger: balances are sums of its entries, never stored.

`account_sums(prefix)` builds the sums as SQL, for one course (`course_account`,
one query over its entries) or for many at once (annotate a Course queryset
with `account_sums("ledger__")`: the desk's outstanding balances).
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db.models import Case, Count, DecimalField, F, Q, Sum, Value, When
from django.db.models.functions import Coalesce

from ..models import Course, Session
from .models import CASH_FLOW, EFFECT, LedgerEntry

K = LedgerEntry.Kind
ZERO = Decimal("0")
MONEY = DecimalField(max_digits=12, decimal_places=2)


def _signed(prefix: str, signs: dict[str, int]):
    """Σ sign × amount over the entries whose kind is in `signs`."""
    amount = F(f"{prefix}amount")
    whens = [
        When(**{f"{prefix}kind": kind}, then=amount if sign > 0 else -amount)
        for kind, sign in signs.items()
        if sign
    ]
    return Coalesce(Sum(Case(*whens, default=Value(ZERO), output_field=MONEY)), Value(ZERO))


def account_sums(prefix: str = "") -> dict:
    """The account's figures as aggregate expressions over ledger entries (`prefix` reaches
    them from another model: "ledger__" from Course)."""
    return {
        "due": _signed(prefix, EFFECT),
        "paid": _signed(prefix, CASH_FLOW),
        "cost": _signed(prefix, {k: s for k, s in EFFECT.items() if k not in CASH_FLOW}),
        "refunded": _signed(prefix, {K.REFUND: 1, K.REFUND_REVERSED: -1}),
        "fees": _signed(prefix, {K.FEE: 1, K.KEPT: 1}),
        # Not "waived": Course has a `waived` property (the booking rules staff overrode).
        "waivers": _signed(prefix, {K.WAIVER: 1}),
        "used": Count(f"{prefix}pk", filter=Q(**{f"{prefix}kind": K.USED}), distinct=True),
        "used_waived": Count(
            f"{prefix}pk",
            filter=Q(**{f"{prefix}kind": K.WAIVER, f"{prefix}refers_to__kind": K.USED}),
            distinct=True,
        ),
        "released": Count(f"{prefix}pk", filter=Q(**{f"{prefix}kind": K.RELEASED}), distinct=True),
    }


@dataclass(frozen=True)
class Account:
    """A course's money, from its ledger: what it costs, what is paid, what is still owed."""

    currency: str
    cost: Decimal  # the price, sessions added and fees, less sessions not given and waivers
    paid: Decimal  # paid at the desk, less refunds (corrections applied)
    due: Decimal  # still to pay; below 0, the clinic owes the patient that much
    refunded: Decimal
    fees: Decimal
    waived: Decimal
    sessions_sold: int  # the course's sessions, less those not given
    sessions_used: int  # attended, or counted as used by the policy (less waivers)

    @property
    def owed_to_patient(self) -> Decimal:
        return -self.due if self.due < 0 else ZERO

    @property
    def refundable(self) -> Decimal:
        """What may be refunded now: what the clinic owes, and never more than was paid."""
        return min(self.owed_to_patient, max(self.paid, ZERO))


def _sum(condition: Q):
    return Coalesce(Sum("amount", filter=condition), Value(ZERO), output_field=MONEY)


def deposit_unkept(course: Course) -> Decimal:
    """The online deposit paid for `course` that the cancellation policy has not kept yet
    (booking/rulebook.py DEPOSIT): online payments, less online refunds and deposits kept
    (waived ones given back). 0 without one; one query, and none for an unpriced course."""
    if course.price is None:
        return ZERO
    online = Q(method=LedgerEntry.Method.ONLINE)
    sums = LedgerEntry.objects.filter(course=course).aggregate(
        paid=_sum(Q(kind=K.PAYMENT) & online),
        refunded=_sum(Q(kind=K.REFUND) & online),
        kept=_sum(Q(kind=K.KEPT)),
        kept_waived=_sum(Q(kind=K.WAIVER, refers_to__kind=K.KEPT)),
    )
    paid = sums["paid"] - sums["refunded"]
    return max(paid - (sums["kept"] - sums["kept_waived"]), ZERO)


def course_account(course: Course) -> Account | None:
    """`course`'s account; None for a course booked before prices were kept."""
    if course.price is None:
        return None
    sums = LedgerEntry.objects.filter(course=course).aggregate(**account_sums())
    sessions = Session.objects.filter(course=course).count()
    return _account(course.currency, sums, sessions)


def _account(currency: str, sums: dict, sessions: int) -> Account:
    return Account(
        currency=currency,
        cost=sums["cost"],
        paid=sums["paid"],
        due=sums["due"],
        refunded=sums["refunded"],
        fees=sums["fees"],
        waived=sums["waivers"],
        sessions_sold=sessions - sums["released"],
        sessions_used=sums["used"] - sums["used_waived"],
    )


def courses_with_accounts(courses):
    """`courses` (a Course queryset) each with its `account` (None before prices)."""
    courses = list(courses)
    priced = [c.pk for c in courses if c.price is not None]
    rows = {
        row["course"]: row
        for row in LedgerEntry.objects.filter(course__in=priced)
        .values("course")
        .annotate(**account_sums())
    }
    counts = dict(
        Session.objects.filter(course__in=priced)
        .values("course")
        .annotate(n=Count("pk"))
        .values_list("course", "n")
    )
    empty = {name: ZERO for name in ("due", "paid", "cost", "refunded", "fees", "waivers")}
    empty.update(used=0, used_waived=0, released=0)
    for course in courses:
        course.account = (
            _account(course.currency, rows.get(course.pk, empty), counts.get(course.pk, 0))
            if course.price is not None
            else None
        )
    return courses


def day_bounds(day: date, zone) -> tuple[datetime, datetime]:
    """The clinic-local day as [start, end) in aware datetimes (a DST day has 23 or 25 hours)."""
    start = datetime.combine(day, time(0), zone)
    return start, datetime.combine(day + timedelta(days=1), time(0), zone)
