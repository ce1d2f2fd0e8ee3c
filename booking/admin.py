"""Booking in the admin: rules, practitioners with their hours and time off.

Courses and sessions are read-only here: every change to them goes through
booking/services.py (the staff tools build on those services).
"""

from django.contrib import admin

from clinic.admin import SingletonAdmin

from .models import (
    BookingRules,
    ClinicClosure,
    ConsentText,
    Course,
    Patient,
    Practitioner,
    Reminder,
    ReminderEvent,
    ReminderSettings,
    Session,
    TimeOff,
    WorkingHours,
)


@admin.register(BookingRules)
class BookingRulesAdmin(SingletonAdmin):
    list_display = [
        "__str__",
        "min_notice_hours",
        "horizon_weeks",
        "slot_step_minutes",
        "buffer_minutes",
        "change_notice_hours",
    ]


class WorkingHoursInline(admin.TabularInline):
    model = WorkingHours
    extra = 0


class TimeOffInline(admin.TabularInline):
    model = TimeOff
    extra = 0


@admin.register(Practitioner)
class PractitionerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "credentials", "is_active"]
    list_filter = ["is_active", "treatments"]
    search_fields = ["display_name"]
    filter_horizontal = ["treatments"]
    inlines = [WorkingHoursInline, TimeOffInline]


@admin.register(ClinicClosure)
class ClinicClosureAdmin(admin.ModelAdmin):
    list_display = ["date", "name"]
    date_hierarchy = "date"


@admin.register(Patient)
class PatientAdmin(admin.ModelAdmin):
    list_display = ["full_name", "phone", "user"]
    search_fields = ["full_name", "phone", "user__email"]
    raw_id_fields = ["user"]


@admin.register(ConsentText)
class ConsentTextAdmin(admin.ModelAdmin):
    list_display = ["version", "created_at"]


class ReadOnlyInline(admin.TabularInline):
    """Rows shown under their parent; changes go through the services, not here."""

    extra = 0
    can_delete = False

    def get_readonly_fields(self, request, obj=None):
        return self.fields

    def has_add_permission(self, request, obj=None):
        return False


class SessionInline(ReadOnlyInline):
    model = Session
    fields = ["number", "start", "end", "practitioner", "status"]


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Course)
class CourseAdmin(ReadOnlyAdmin):
    list_display = [
        "patient",
        "treatment",
        "practitioner",
        "sessions_planned",
        "status",
        "created_at",
    ]
    list_filter = ["status", "treatment", "practitioner"]
    search_fields = ["patient__full_name", "patient__user__email", "patient__phone"]
    list_select_related = ["patient", "treatment", "practitioner"]
    inlines = [SessionInline]


@admin.register(Session)
class SessionAdmin(ReadOnlyAdmin):
    list_display = ["start", "patient", "number", "practitioner", "status"]
    list_filter = ["status", "practitioner"]
    date_hierarchy = "start"
    search_fields = ["patient__full_name", "patient__user__email"]
    list_select_related = ["patient", "practitioner", "course"]


@admin.register(ReminderSettings)
class ReminderSettingsAdmin(SingletonAdmin):
    pass


class ReminderEventInline(ReadOnlyInline):
    model = ReminderEvent
    fields = ["at", "event", "detail"]


@admin.register(Reminder)
class ReminderAdmin(ReadOnlyAdmin):
    """The reminder log: every row with its state and history."""

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
        return request.user.is_staff  # needed for the action; every field stays read-only

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]

    @admin.action(description="Retry the selected failed reminders")
    def retry(self, request, queryset):
        from django.utils import timezone

        from .reminders import reminder_retry

        failed = list(queryset.filter(status=Reminder.Status.FAILED))
        for reminder in failed:
            reminder_retry(reminder, now=timezone.now())
        self.message_user(request, f"{len(failed)} failed reminder(s) will be sent again.")
