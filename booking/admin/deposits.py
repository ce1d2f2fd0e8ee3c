"""Online deposits in the admin (booking/deposits/): each checkout (the times held while the
patient pays, and how it ended) and the Stripe events seen, read only.

Nothing is added, changed or deleted here: a checkout moves on only by Stripe's signed
webhook, the patient letting the times go, or the sweep (booking/deposits/services.py);
the money it took or gave back is in the course ledger (booking/admin/ledger.py). Who sees
them: reception and the owner (clinic/roles.py), not clinicians or content editors. The
health answers kept to book the course once paid are never shown here (they are on the
course, for the clinicians).
"""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.money import money

from ..deposits.models import DepositCheckout, PaymentEvent
from ..deposits.services import held_times
from ..ledger.models import LedgerEntry
from .base import ReadOnlyAdmin, ScopedAdmin
from .waitlist_actions import local_time

S = DepositCheckout.Status


@admin.register(DepositCheckout)
class DepositCheckoutAdmin(ScopedAdmin, ReadOnlyAdmin):
    list_display = ["created", "patient", "treatment", "amount_shown", "status", "held_until"]
    list_filter = ["status", ("created_at", admin.DateFieldListFilter)]
    list_select_related = ["patient", "treatment"]
    # Bounded like every admin search (clinic/middleware.py, ADMIN_SEARCH_MAX_*).
    search_fields = ["patient__full_name"]
    date_hierarchy = "created_at"
    fields = [
        "patient_link",
        "treatment",
        "amount_shown",
        "status",
        "held_until",
        "times",
        "course_link",
        "online_money",
        "ended_reason",
        "refund_due",
        "stripe_session",
        "payment_intent",
        "created",
        "updated",
        "events_seen",
    ]
    readonly_fields = fields

    def get_actions(self, request):
        return {}

    @admin.display(description=_("started"), ordering="created_at")
    def created(self, obj):
        return local_time(obj.created_at)

    @admin.display(description=_("last change"), ordering="updated_at")
    def updated(self, obj):
        return local_time(obj.updated_at)

    @admin.display(description=_("deposit"), ordering="amount")
    def amount_shown(self, obj):
        return money(obj.amount, obj.currency)

    @admin.display(description=_("times held until"), ordering="expires_at")
    def held_until(self, obj):
        """While the times are held: until when. Once it has ended, nothing is held."""
        if obj.status in (S.STARTING, S.OPEN):
            return local_time(obj.expires_at)
        return None

    @admin.display(description=_("patient"), ordering="patient__full_name")
    def patient_link(self, obj):
        url = reverse("admin:booking_patient_change", args=[obj.patient_id])
        return format_html('<a href="{}">{}</a>', url, obj.patient)

    @admin.display(description=_("times"))
    def times(self, obj):
        holds = held_times(obj).select_related("practitioner").order_by("number")
        return (
            format_html_join(
                "",
                "<p>{}</p>",
                (
                    (
                        gettext("Session %(number)d: %(start)s with %(practitioner)s (%(status)s)")
                        % {
                            "number": hold.number,
                            "start": local_time(hold.start),
                            "practitioner": hold.practitioner,
                            "status": gettext("held")
                            if hold.status == hold.Status.HELD
                            else gettext("released"),
                        },
                    )
                    for hold in holds
                ),
            )
            or None
        )

    @admin.display(description=_("course"))
    def course_link(self, obj):
        if obj.course_id is None:
            return None
        url = reverse("admin:booking_course_change", args=[obj.course_id])
        return format_html('<a href="{}#ledger">{}</a>', url, obj.course)

    @admin.display(description=_("money online"))
    def online_money(self, obj):
        """The online payment and refunds, as the ledger has them (the course's, or for a
        payment that came after the times were released, the checkout's own)."""
        entries = LedgerEntry.objects.filter(method=LedgerEntry.Method.ONLINE).order_by("at", "pk")
        entries = (
            entries.filter(course_id=obj.course_id)
            if obj.course_id
            else entries.filter(checkout=obj)
        )
        return (
            format_html_join(
                "",
                "<p>{}</p>",
                (
                    (
                        f"{local_time(e.at)}: {e.get_kind_display()} "
                        f"{money(e.amount, e.currency)} ({e.reason})",
                    )
                    for e in entries
                ),
            )
            or None
        )

    @admin.display(description=_("refund due since"))
    def refund_due(self, obj):
        return local_time(obj.refund_due_since) or None

    @admin.display(description=_("Stripe events"))
    def events_seen(self, obj):
        return (
            format_html_join(
                "",
                "<p>{}</p>",
                (
                    (f"{local_time(e.received_at)}: {e.type} ({e.result}) {e.event_id}",)
                    for e in obj.events.order_by("received_at", "pk")
                ),
            )
            or None
        )


@admin.register(PaymentEvent)
class PaymentEventAdmin(ScopedAdmin, ReadOnlyAdmin):
    list_display = ["received", "type", "result", "checkout_link", "event_id"]
    list_filter = ["type", ("received_at", admin.DateFieldListFilter)]
    list_select_related = ["checkout__patient"]
    search_fields = ["event_id", "checkout__patient__full_name"]
    date_hierarchy = "received_at"
    fields = ["received", "event_id", "type", "result", "checkout_link"]
    readonly_fields = fields

    def get_actions(self, request):
        return {}

    @admin.display(description=_("received"), ordering="received_at")
    def received(self, obj):
        return local_time(obj.received_at)

    @admin.display(description=_("online deposit"))
    def checkout_link(self, obj):
        if obj.checkout_id is None:
            return None
        url = reverse("admin:booking_depositcheckout_change", args=[obj.checkout_id])
        return format_html('<a href="{}">{}</a>', url, obj.checkout)
