"""The course ledger: what a course costs, what is paid, and why, as entries never edited.

Imported by booking/models.py, so the rows belong to the booking app (and its migrations).

Every entry has a kind, an amount (never negative) in the course's currency, the
moment it happened, who recorded it and why. What it does to the balance (what
the patient still owes) is decided by its kind alone (`EFFECT`): the price a
course was sold at, a session added and a policy fee add to it; a payment, a
session released (cancelled, so not given) and a waiver take from it; a refund
(money given back) adds to it again; a session used changes nothing (it is the
record of what the price paid for). A correction is a new entry reversing one
payment or refund, never an edit. Balances are sums over the entries
(booking/ledger/selectors.py).

The services (booking/ledger/services.py) write the entries, inside the booking
services' transactions; nothing else does. Saving an existing entry, `update()`
and `delete()` all refuse.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import Course, Session


class AppendOnly(Exception):
    """A ledger entry is never changed or removed: a correction is a new entry."""


class LedgerQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnly("Ledger entries are never changed; record a correction instead.")

    def delete(self):
        raise AppendOnly("Ledger entries are never removed; record a correction instead.")


class LedgerEntry(models.Model):
    class Kind(models.TextChoices):
        SOLD = "sold", _("Course price")
        ADDED = "added", _("Session added")
        USED = "used", _("Session used")
        RELEASED = "released", _("Session not given")
        FEE = "fee", _("Policy fee")
        KEPT = "kept", _("Deposit kept")  # the policy keeps the online deposit
        WAIVED = "waived", _("Policy waived")
        WAIVER = "waiver", _("Waiver")
        PAYMENT = "payment", _("Payment")
        REFUND = "refund", _("Refund")
        PAYMENT_REVERSED = "payment_reversed", _("Payment corrected")
        REFUND_REVERSED = "refund_reversed", _("Refund corrected")

    class Event(models.TextChoices):
        """What the cancellation policy answered (booking/rulebook.py `policy_outcome`)."""

        LATE_CANCEL = "late_cancel", _("Cancelled inside the notice")
        LATE_MOVE = "late_move", _("Moved inside the notice")
        NO_SHOW = "no_show", _("No-show")

    class Method(models.TextChoices):
        CARD = "card", _("Card terminal")
        CASH = "cash", _("Cash")
        VOUCHER = "voucher", _("Voucher")
        ONLINE = "online", _("Card online (Stripe)")  # booking/deposits/, never at the desk

    # A deposit paid after its hold had gone belongs to no course: its payment and refund
    # are entries of its checkout (booking/deposits/) instead.
    course = models.ForeignKey(
        Course,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger",
        verbose_name=_("course"),
    )
    checkout = models.ForeignKey(
        "booking.DepositCheckout",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger",
        verbose_name=_("online deposit"),
    )
    # The payment provider's id of this money (a Stripe payment intent or refund): an
    # online payment or refund is recorded once, whichever of its messages comes first.
    provider_ref = models.CharField(
        _("provider's reference"), max_length=255, blank=True, editable=False
    )
    session = models.ForeignKey(
        Session,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="ledger",
        verbose_name=_("session"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind.choices)
    amount = models.DecimalField(_("amount"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    # Set on a policy outcome (a fee, a session used, or waived at the time).
    event = models.CharField(_("policy event"), max_length=20, choices=Event.choices, blank=True)
    method = models.CharField(_("paid by"), max_length=10, choices=Method.choices, blank=True)
    # A waiver's outcome, or the payment or refund a correction reverses.
    refers_to = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("about entry"),
    )
    reason = models.CharField(_("why"), max_length=300)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    # The author's name as it was (a staff account may go; the record stays).
    recorded_by_name = models.CharField(_("recorded by (name)"), max_length=150, blank=True)
    at = models.DateTimeField(_("when"))

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["at", "pk"]
        verbose_name = _("ledger entry")
        verbose_name_plural = _("ledger entries")
        permissions = [
            ("record_payment", _("Can record payments and refunds at the desk")),
            ("waive_policy", _("Can waive the cancellation policy")),
        ]
        indexes = [models.Index(fields=["kind", "at"], name="ledger_kind_at_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gte=0), name="ledger_amount_not_negative"),
            models.CheckConstraint(condition=~Q(reason=""), name="ledger_entry_has_a_reason"),
            # A payment or refund says how; nothing else does.
            models.CheckConstraint(
                condition=Q(kind__in=["payment", "refund"], method__gt="")
                | (~Q(kind__in=["payment", "refund"]) & Q(method="")),
                name="ledger_method_for_money_only",
            ),
            models.CheckConstraint(
                condition=Q(course__isnull=False) | Q(checkout__isnull=False),
                name="ledger_of_a_course_or_a_checkout",
            ),
            models.UniqueConstraint(
                fields=["provider_ref"],
                condition=~Q(provider_ref=""),
                name="ledger_provider_money_once",
            ),
            # A policy outcome is one of these kinds, about a session.
            models.CheckConstraint(
                condition=Q(event="")
                | Q(kind__in=["fee", "kept", "used", "waived"], session__isnull=False),
                name="ledger_outcome_shape",
            ),
            # Waivers and corrections are about one earlier entry; nothing else is.
            models.CheckConstraint(
                condition=Q(
                    kind__in=["waiver", "payment_reversed", "refund_reversed"],
                    refers_to__isnull=False,
                )
                | (
                    ~Q(kind__in=["waiver", "payment_reversed", "refund_reversed"])
                    & Q(refers_to__isnull=True)
                ),
                name="ledger_refers_only_for_corrections",
            ),
            # Once each: a cancellation or a no-show of a session has one outcome (a
            # session can be moved late more than once, each move its own outcome).
            models.UniqueConstraint(
                fields=["session", "event"],
                condition=Q(event__in=["late_cancel", "no_show"]),
                name="ledger_one_outcome_per_session_event",
            ),
            models.UniqueConstraint(
                fields=["session", "kind"],
                condition=Q(kind__in=["added", "used", "released"]),
                name="ledger_session_added_used_released_once",
            ),
            models.UniqueConstraint(
                fields=["refers_to"],
                condition=Q(refers_to__isnull=False),
                name="ledger_waived_or_corrected_once",
            ),
            models.UniqueConstraint(
                fields=["course"], condition=Q(kind="sold"), name="ledger_sold_once"
            ),
        ]

    def __str__(self):
        from clinic.money import money

        return f"{self.get_kind_display()} {money(self.amount, self.currency)}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnly(gettext("Ledger entries are never changed; record a correction."))
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnly(gettext("Ledger entries are never removed; record a correction."))

    @property
    def effect(self) -> int:
        """+1: the patient owes more; -1: less; 0: a record only."""
        return EFFECT[self.kind]


K = LedgerEntry.Kind
# How money changes hands at the desk (online payments come only through booking/deposits/).
DESK_METHODS = [m for m in LedgerEntry.Method.values if m != LedgerEntry.Method.ONLINE]
# What each kind does to the balance (what the patient still owes).
EFFECT = {
    K.SOLD: 1,
    K.ADDED: 1,
    K.FEE: 1,
    K.KEPT: 1,
    K.REFUND: 1,
    K.PAYMENT_REVERSED: 1,
    K.PAYMENT: -1,
    K.RELEASED: -1,
    K.WAIVER: -1,
    K.REFUND_REVERSED: -1,
    K.USED: 0,
    K.WAIVED: 0,
}
# Money that changed hands at the desk, and its corrections: +1 in, -1 out.
CASH_FLOW = {K.PAYMENT: 1, K.REFUND_REVERSED: 1, K.REFUND: -1, K.PAYMENT_REVERSED: -1}


class ReceiptSent(models.Model):
    """A receipt emailed for a payment or refund (again on request: one row each time)."""

    entry = models.ForeignKey(
        LedgerEntry, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("entry")
    )
    to = models.EmailField(_("sent to"))
    sent_at = models.DateTimeField(_("sent"))
    sent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    message_id = models.CharField(_("message id"), max_length=200, blank=True)

    class Meta:
        ordering = ["sent_at"]
        verbose_name = _("receipt sent")
        verbose_name_plural = _("receipts sent")

    def __str__(self):
        return gettext("Receipt for entry %(entry)s") % {"entry": self.entry_id}
