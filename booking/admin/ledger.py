"""The course ledger in the admin: every entry (read only), the receipts sent, and the desk's
two reports, a day's takings and the outstanding balances, each with its CSV.

Nobody adds, changes or deletes an entry here: payments, refunds, waivers and corrections
are recorded from the course's page (booking/admin/desk.py), through
booking/ledger/services.py, always as new entries. The reports' reads are in
booking/ledger/desk.py. Who sees them: those who see the ledger (reception and the owner;
clinic/roles.py), not clinicians or content editors.
"""

from datetime import timedelta

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from clinic.money import money

from .. import selectors
from ..export import csv_response
from ..ledger import desk
from ..ledger.models import CASH_FLOW, LedgerEntry, ReceiptSent
from .base import ReadOnlyAdmin, ScopedAdmin
from .waitlist_actions import local_time

TAKINGS_COLUMNS = [
    _("When"),
    _("Patient"),
    _("Treatment"),
    _("Kind"),
    _("Paid by"),
    _("Currency"),
    _("Money in"),
    _("Money out"),
    _("Why"),
    _("Recorded by"),
]
OUTSTANDING_COLUMNS = [
    _("Patient"),
    _("Phone"),
    _("Treatment"),
    _("Booked"),
    _("Course status"),
    _("Currency"),
    _("The course costs"),
    _("Paid so far"),
    _("Still to pay"),
    _("Owed to the patient"),
]


def entry_patient(entry: LedgerEntry):
    """Whose money it is: the course's patient, or for an online deposit paid after its
    times were released (no course), the checkout's."""
    owner = entry.course if entry.course_id else entry.checkout
    return owner.patient if owner is not None else None


def entry_treatment(entry: LedgerEntry):
    owner = entry.course if entry.course_id else entry.checkout
    return owner.treatment if owner is not None else None


class DayForm(forms.Form):
    day = forms.DateField(
        label=_("Day"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": _("Enter a date, like 2026-06-01.")},
    )


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ScopedAdmin, ReadOnlyAdmin):
    list_display = [
        "when",
        "patient",
        "treatment",
        "kind",
        "session_number",
        "amount_shown",
        "method",
        "reason",
        "recorded_by_name",
    ]
    list_filter = ["kind", "method", ("at", admin.DateFieldListFilter)]
    search_fields = ["course__patient__full_name", "checkout__patient__full_name"]
    list_select_related = [
        "course__patient",
        "course__treatment",
        "checkout__patient",
        "checkout__treatment",
        "session",
    ]
    date_hierarchy = "at"
    fields = [
        "course_link",
        "kind",
        "event",
        "session_number",
        "amount_shown",
        "method",
        "reason",
        "refers_to",
        "recorded_by_name",
        "when",
    ]
    readonly_fields = fields

    def get_actions(self, request):
        return {}  # not even "delete selected": entries are never removed

    @admin.display(description=_("when"), ordering="at")
    def when(self, obj):
        return local_time(obj.at)

    @admin.display(description=_("patient"), ordering="course__patient__full_name")
    def patient(self, obj):
        return entry_patient(obj)

    @admin.display(description=_("treatment"))
    def treatment(self, obj):
        return entry_treatment(obj)

    @admin.display(description=_("course"))
    def course_link(self, obj):
        if obj.course_id is None:  # an online deposit paid after its times were released
            url = reverse("admin:booking_depositcheckout_change", args=[obj.checkout_id])
            return format_html('<a href="{}">{}</a>', url, obj.checkout)
        url = reverse("admin:booking_course_change", args=[obj.course_id])
        return format_html('<a href="{}#ledger">{}</a>', url, obj.course)

    @admin.display(description=_("session"))
    def session_number(self, obj):
        return obj.session.number if obj.session_id else "-"

    @admin.display(description=_("amount"), ordering="amount")
    def amount_shown(self, obj):
        return money(obj.amount, obj.currency)

    def get_urls(self):
        def view(function, route, name):
            return path(
                route, self.admin_site.admin_view(function), name=f"booking_ledgerentry_{name}"
            )

        return [
            view(self.takings_view, "takings/", "takings"),
            view(self.takings_csv_view, "takings/csv/", "takings_csv"),
            view(self.outstanding_view, "outstanding/", "outstanding"),
            view(self.outstanding_csv_view, "outstanding/csv/", "outstanding_csv"),
            *super().get_urls(),
        ]

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {**(extra_context or {}), "desk_reports": True})

    # --- the day's takings ------------------------------------------------------

    def _allowed(self, request) -> None:
        if not self.has_view_permission(request):
            raise PermissionDenied

    def _day(self, request):
        """The day asked for (the clinic's today by default), and the form that asked."""
        today = timezone.now().astimezone(selectors.clinic_zone()).date()
        form = DayForm(request.GET if "day" in request.GET else None, initial={"day": today})
        if form.is_bound and form.is_valid() and form.cleaned_data["day"].year in range(2000, 3000):
            return form.cleaned_data["day"], form
        if form.is_bound and not form.errors:
            form.add_error("day", gettext("Enter a date, like 2026-06-01."))
        return today, form

    def takings_view(self, request):
        self._allowed(request)
        day, form = self._day(request)
        takings = desk.day_takings(day)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Takings for %(day)s") % {"day": f"{day:%A %-d %B %Y}"},
            "form": form,
            "takings": takings,
            "earlier": f"?day={(day - timedelta(days=1)).isoformat()}",
            "later": f"?day={(day + timedelta(days=1)).isoformat()}",
            "csv_url": reverse("admin:booking_ledgerentry_takings_csv") + f"?day={day.isoformat()}",
        }
        return TemplateResponse(request, "admin/booking/ledgerentry/takings.html", context)

    def takings_csv_view(self, request):
        self._allowed(request)
        day, _form = self._day(request)
        zone = selectors.clinic_zone()
        rows = []
        for entry in desk.day_takings(day).entries:
            flow = entry.amount * CASH_FLOW[entry.kind]
            rows.append(
                [
                    f"{entry.at.astimezone(zone):%Y-%m-%d %H:%M}",
                    entry_patient(entry).full_name,
                    entry_treatment(entry).name,
                    entry.get_kind_display(),
                    LedgerEntry.Method(entry.paid_by).label if entry.paid_by else "",
                    entry.currency,
                    flow if flow > 0 else "",
                    -flow if flow < 0 else "",
                    entry.reason,
                    entry.recorded_by_name,
                ]
            )
        return csv_response(f"takings-{day.isoformat()}.csv", [TAKINGS_COLUMNS, *rows])

    # --- outstanding balances ---------------------------------------------------

    def outstanding_view(self, request):
        self._allowed(request)
        courses = desk.balances_outstanding()
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": gettext("Outstanding balances"),
            "owed": [c for c in courses if c.due > 0],
            "owed_back": [c for c in courses if c.due < 0],
            "csv_url": reverse("admin:booking_ledgerentry_outstanding_csv"),
        }
        return TemplateResponse(request, "admin/booking/ledgerentry/outstanding.html", context)

    def outstanding_csv_view(self, request):
        self._allowed(request)
        rows = [
            [
                c.patient.full_name,
                c.patient.phone,
                c.treatment.name,
                f"{c.created_at.astimezone(selectors.clinic_zone()):%Y-%m-%d}",
                c.get_status_display(),
                c.currency,
                c.cost,
                c.paid,
                c.due if c.due > 0 else "",
                c.owed_back or "",
            ]
            for c in desk.balances_outstanding()
        ]
        name = f"outstanding-{timezone.localdate():%Y%m%d}.csv"
        return csv_response(name, [OUTSTANDING_COLUMNS, *rows])


@admin.register(ReceiptSent)
class ReceiptSentAdmin(ScopedAdmin, ReadOnlyAdmin):
    list_display = ["sent", "patient", "entry", "sent_by", "message_id"]
    list_select_related = ["entry__course__patient", "entry__checkout__patient", "sent_by"]
    search_fields = ["entry__course__patient__full_name"]
    fields = ["entry", "patient", "to", "sent", "sent_by", "message_id"]
    readonly_fields = fields

    def get_actions(self, request):
        return {}

    @admin.display(description=_("sent"), ordering="sent_at")
    def sent(self, obj):
        return local_time(obj.sent_at)

    @admin.display(description=_("patient"))
    def patient(self, obj):
        return entry_patient(obj.entry)
