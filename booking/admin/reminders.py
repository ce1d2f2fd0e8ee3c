"""The reminder log: every row with its state and history, and a retry for failed ones."""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from ..models import Reminder, ReminderEvent
from ..reminders import reminder_retry
from .base import ReadOnlyAdmin, ReadOnlyInline


class ReminderEventInline(ReadOnlyInline):
    model = ReminderEvent
    fields = ["at", "event", "detail"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    list_display = [
        "kind",
        "session",
        "due_at",
        "status",
        "attempts",
        "deferrals",
        "version",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind"]
    date_hierarchy = "due_at"
    search_fields = ["session__patient__full_name", "session__patient__user__email"]
    list_select_related = ["session__patient", "session__course"]
    actions = ["retry"]
    inlines = [ReminderEventInline]

    def has_change_permission(self, request, obj=None):
        # Needed for the retry action; every field stays read-only.
        return request.user.has_perm("booking.change_reminder")

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description=_("Retry the selected failed reminders"), permissions=["change"])
    def retry(self, request, queryset):
        failed = list(queryset.filter(status=Reminder.Status.FAILED))
        for reminder in failed:
            reminder_retry(reminder, now=timezone.now())
        self.message_user(
            request,
            gettext("%(count)d failed reminder(s) will be sent again.") % {"count": len(failed)},
        )
