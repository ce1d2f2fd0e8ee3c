"""The clinic's booking rules, reminder timings, closures and consent versions."""

from django.contrib import admin
from django.db.models import Count
from django.utils.translation import gettext_lazy as _

from clinic.admin import SingletonAdmin
from clinic.admin_access import FieldAccessAdmin

from ..models import BookingRules, ClinicClosure, ConsentText, ReminderSettings


@admin.register(BookingRules)
class BookingRulesAdmin(SingletonAdmin):
    list_display = [
        "__str__",
        "min_notice_hours",
        "horizon_weeks",
        "slot_step_minutes",
        "buffer_minutes",
        "change_notice_hours",
        "courses_per_treatment",
    ]
    fieldsets = [
        (
            _("Booking"),
            {
                "fields": [
                    "min_notice_hours",
                    "horizon_weeks",
                    "slot_step_minutes",
                    "buffer_minutes",
                    "courses_per_treatment",
                ]
            },
        ),
        (
            _("Moving and cancelling"),
            {
                "fields": [
                    "change_notice_hours",
                    ("late_cancel_outcome", "late_cancel_fee"),
                    ("late_move_outcome", "late_move_fee"),
                    ("no_show_outcome", "no_show_fee"),
                ],
                "description": _(
                    "The cancellation policy: what happens when a session is cancelled or "
                    "moved inside the notice, or the patient does not come. Patients read it "
                    "before they book, in their confirmation and on My appointments. Each "
                    "outcome is recorded in the course's ledger; staff can waive it with a "
                    "reason. A change applies from now on, not to what was recorded before. "
                    '"The deposit is kept" (for a late cancellation or a no-show) keeps what '
                    "the patient paid online for the course; where nothing was paid online, "
                    "nothing is charged."
                ),
            },
        ),
        (
            _("Online deposits"),
            {
                "fields": ["deposit_required"],
                "description": _(
                    "Each treatment says its deposit: none, a fixed amount or a part of the "
                    "course's price. Patients pay it by card on Stripe's page, only once the "
                    "clinic's Stripe keys are set (see the README). Without them, patients pay "
                    "at the clinic and this does nothing."
                ),
            },
        ),
    ]


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(SingletonAdmin):
    pass


@admin.register(ClinicClosure)
class ClinicClosureAdmin(FieldAccessAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"


@admin.register(ConsentText)
class ConsentTextAdmin(FieldAccessAdmin):
    """Versions are added, never edited: each course keeps the one its patient agreed to."""

    list_display = ["version", "created_at", "courses_agreed"]
    readonly_fields = ["created_at"]

    def get_readonly_fields(self, request, obj=None):
        return ["version", "text", "created_at"] if obj else ["created_at"]

    def get_changeform_initial_data(self, request):
        latest = ConsentText.current()
        return {
            "version": (latest.version + 1) if latest else 1,
            "text": latest.text if latest else "",
        }

    @admin.display(description=_("courses agreed to it"))
    def courses_agreed(self, obj):
        return obj.courses_agreed

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(courses_agreed=Count("courses"))

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
