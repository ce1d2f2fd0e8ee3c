"""Reads for the desk: a day's takings and the outstanding balances (booking/admin/ledger.py).

Each is one query: the day's money entries (with their course, patient and treatment),
and every priced course whose account is not square (its figures summed in SQL by
`account_sums`).
"""

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from django.db.models import Q

from ..models import Course
from ..selectors import clinic_zone
from .models import CASH_FLOW, LedgerEntry
from .selectors import ZERO, account_sums, day_bounds

K = LedgerEntry.Kind
METHODS = LedgerEntry.Method
ONLINE = METHODS.ONLINE


@dataclass
class MethodTotal:
    """Money in and out by one method (card terminal, cash, voucher) in one currency."""

    method: str
    label: str
    taken: Decimal = ZERO  # payments, less payments corrected
    refunded: Decimal = ZERO  # refunds, less refunds corrected

    @property
    def net(self) -> Decimal:
        return self.taken - self.refunded


@dataclass
class CurrencyTotals:
    currency: str
    methods: list[MethodTotal] = field(default_factory=list)

    @property
    def taken(self) -> Decimal:
        return sum((m.taken for m in self.methods), ZERO)

    @property
    def refunded(self) -> Decimal:
        return sum((m.refunded for m in self.methods), ZERO)

    @property
    def net(self) -> Decimal:
        return self.taken - self.refunded


@dataclass(frozen=True)
class Takings:
    day: date
    entries: list  # LedgerEntry, each with `.paid_by` (its method, or the corrected entry's)
    totals: list[CurrencyTotals]  # one per currency taken in that day (usually one)


def entry_method(entry: LedgerEntry) -> str:
    """How the money moved: a correction reverses its payment or refund's method."""
    if entry.method:
        return entry.method
    return entry.refers_to.method if entry.refers_to_id else ""


def day_takings(day: date) -> Takings:
    """The money recorded on `day` (the clinic's day, 23 or 25 hours when the clocks change):
    payments, refunds and their corrections, and their totals per method."""
    start, end = day_bounds(day, clinic_zone())
    entries = list(
        LedgerEntry.objects.filter(kind__in=list(CASH_FLOW), at__gte=start, at__lt=end)
        .select_related(
            "course__patient",
            "course__treatment",
            "checkout__patient",
            "checkout__treatment",
            "session",
            "refers_to",
        )
        .order_by("at", "pk")
    )
    totals: dict[str, CurrencyTotals] = {}
    for entry in entries:
        entry.paid_by = entry_method(entry)
        entry.paid_by_label = METHODS(entry.paid_by).label if entry.paid_by else ""
        group = totals.get(entry.currency)
        if group is None:
            group = totals[entry.currency] = CurrencyTotals(
                entry.currency,
                [MethodTotal(value, label) for value, label in METHODS.choices if value != ONLINE],
            )
        line = next((m for m in group.methods if m.method == entry.paid_by), None)
        if line is None:  # online (Stripe): listed on the days it took or gave money
            line = MethodTotal(entry.paid_by, entry.paid_by_label)
            group.methods.append(line)
        if entry.kind in (K.PAYMENT, K.PAYMENT_REVERSED):
            line.taken += entry.amount * CASH_FLOW[entry.kind]
        else:  # a refund is money out; its correction puts it back
            line.refunded -= entry.amount * CASH_FLOW[entry.kind]
    return Takings(day=day, entries=entries, totals=sorted(totals.values(), key=_currency))


def _currency(totals: CurrencyTotals) -> str:
    return totals.currency


def balances_outstanding():
    """Every priced course whose account is not square, each with its figures (`due` above
    0: the patient owes it; below 0: the clinic owes the patient, `owed_back`): one query."""
    sums = account_sums("ledger__")
    courses = list(
        Course.objects.filter(price__isnull=False)
        .select_related("patient__user", "treatment")
        # Only the figures shown (Course.waived is a property of its own: the rules waived).
        .annotate(cost=sums["cost"], paid=sums["paid"], due=sums["due"])
        .filter(~Q(due=0))
        .order_by("patient__full_name", "created_at", "pk")
    )
    for course in courses:
        course.owed_back = -course.due if course.due < 0 else ZERO
    return courses
