"""Practitioners, with their working hours and time off inline."""

from django.contrib import admin

from ..models import Practitioner, TimeOff, WorkingHours


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
