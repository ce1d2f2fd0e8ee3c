"""The online deposit's rows: a checkout (the times held while the patient pays) and
the Stripe events seen. Imported by booking/models.py, so they belong to the booking app."""

from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from education.models import Treatment

from ..models import ConsentText, Course, Patient, Session


class DepositCheckoutQuerySet(models.QuerySet):
    def holding(self):
        """Checkouts whose times are still held: being set up, or open at Stripe."""
        return self.filter(
            status__in=[DepositCheckout.Status.STARTING, DepositCheckout.Status.OPEN]
        )


class DepositCheckout(models.Model):
    """A course waiting for its deposit: the times held, and what to book once paid."""

    class Status(models.TextChoices):
        STARTING = "starting", _("Sending the patient to pay")
        OPEN = "open", _("Waiting for the payment")
        BOOKED = "booked", _("Paid: course booked")
        RELEASED = "released", _("Not paid: times released")
        LATE = "late", _("Paid after the times were released: refund due")
        REFUNDED = "refunded", _("Paid late: refunded")

    patient = models.ForeignKey(Patient, on_delete=models.PROTECT, related_name="checkouts")
    treatment = models.ForeignKey(Treatment, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.STARTING
    )
    # What course_book is given once the payment is confirmed: the journey's answers (question
    # id -> "yes"/"no"), the questions' version, the treatment they were for (a consultation
    # booked because of them), the consent agreed to.
    answers = models.JSONField(default=dict, blank=True)
    answers_version = models.PositiveIntegerField(null=True, blank=True)
    answers_for = models.ForeignKey(
        Treatment, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    consent = models.ForeignKey(
        ConsentText, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    # The journey's idempotency key: a second click on the confirm step finds this checkout.
    key = models.CharField(max_length=64, unique=True)
    holds = models.ManyToManyField(Session, related_name="+", blank=True)
    amount = models.DecimalField(_("deposit"), max_digits=10, decimal_places=2)
    currency = models.CharField(_("currency"), max_length=3)
    expires_at = models.DateTimeField(_("times held until"))
    stripe_session = models.CharField(
        _("Stripe Checkout session"), max_length=255, unique=True, null=True, blank=True
    )
    # Stripe's page for this payment (its own origin, settings.STRIPE_CHECKOUT_ORIGIN).
    url = models.URLField(_("payment page"), max_length=1000, blank=True)
    payment_intent = models.CharField(
        _("Stripe payment"), max_length=255, unique=True, null=True, blank=True
    )
    course = models.OneToOneField(
        Course,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="deposit_checkout",
    )
    # Set when a cancellation may leave the clinic owing part of the deposit back: the
    # refund task (and the sweep, if that fails) refunds it through Stripe and clears it.
    refund_due_since = models.DateTimeField(null=True, blank=True)
    ended_reason = models.CharField(_("why it ended"), max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = DepositCheckoutQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        verbose_name = _("online deposit")
        verbose_name_plural = _("online deposits")
        indexes = [models.Index(fields=["status", "expires_at"], name="checkout_status_idx")]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="checkout_amount_above_zero"),
            models.CheckConstraint(
                condition=~Q(status="booked") | Q(course__isnull=False),
                name="checkout_booked_has_course",
            ),
        ]

    def __str__(self):
        return gettext("Deposit %(id)s for %(patient)s") % {"id": self.pk, "patient": self.patient}


class PaymentEvent(models.Model):
    """A Stripe event seen: processed once by its id, however often it is delivered."""

    event_id = models.CharField(_("event"), max_length=255, unique=True)
    type = models.CharField(_("type"), max_length=100)
    checkout = models.ForeignKey(
        DepositCheckout,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="events",
    )
    result = models.CharField(_("what it did"), max_length=100, blank=True)
    received_at = models.DateTimeField(_("received"))

    class Meta:
        ordering = ["received_at"]
        verbose_name = _("payment event")

    def __str__(self):
        return f"{self.type} {self.event_id}"
