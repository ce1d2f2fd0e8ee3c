"""Sessions (read-only rows; changes through the services) and clinical notes."""

from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html
from simple_history.admin import SimpleHistoryAdmin

from ..models import ClinicalNote, Session
from .base import ScopedAdmin


@admin.register(Session)
class SessionAdmin(ScopedAdmin, SimpleHistoryAdmin):
    list_display = ["start", "patient", "treatment", "number_of", "practitioner", "status"]
    list_filter = ["status", "practitioner", "course__treatment"]
    date_hierarchy = "start"
    search_fields = ["patient__full_name", "patient__user__email", "patient__phone"]
    list_select_related = ["patient", "practitioner", "course__treatment"]
    fields = [
        "course_link",
        "patient",
        "number_of",
        "practitioner",
        "start",
        "end",
        "status",
        "cancelled_at",
    ]
    readonly_fields = fields

    def scope(self, queryset, practitioner_id):
        return queryset.filter(practitioner_id=practitioner_id)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="treatment", ordering="course__treatment__name")
    def treatment(self, obj):
        return obj.course.treatment

    @admin.display(description="session")
    def number_of(self, obj):
        return f"{obj.number} of {obj.course.sessions_planned}"

    @admin.display(description="course")
    def course_link(self, obj):
        url = reverse("admin:booking_course_change", args=[obj.course_id])
        return format_html('<a href="{}">{}</a>', url, obj.course)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "clinical_note": self._note_link(request, object_id),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _note_link(self, request, object_id) -> dict | None:
        """The clinical note's link for clinicians; nothing at all for anyone else."""
        if not request.user.has_perm("booking.view_clinicalnote"):
            return None
        note = ClinicalNote.objects.filter(session_id=object_id).values_list("pk", flat=True)
        if note:
            url = reverse("admin:booking_clinicalnote_change", args=[note[0]])
            return {"url": url, "label": "Open the clinical note"}
        if request.user.has_perm("booking.add_clinicalnote"):
            url = reverse("admin:booking_clinicalnote_add") + f"?session={object_id}"
            return {"url": url, "label": "Write the clinical note"}
        return None


@admin.register(ClinicalNote)
class ClinicalNoteAdmin(ScopedAdmin, SimpleHistoryAdmin):
    """Clinicians only (the role's permissions); each sees the notes of their own sessions."""

    list_display = ["session", "device", "needle_depth_mm", "updated_at", "written_by"]
    list_select_related = ["session__patient", "written_by"]
    search_fields = ["session__patient__full_name"]
    raw_id_fields = ["session"]
    fields = ["session", "skin_reaction", "device", "needle_depth_mm", "notes"]

    def scope(self, queryset, practitioner_id):
        return queryset.filter(session__practitioner_id=practitioner_id)

    def get_readonly_fields(self, request, obj=None):
        return ["session"] if obj else []

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "session":
            kwargs["queryset"] = SessionAdmin(Session, self.admin_site).get_queryset(request)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        obj.written_by = request.user
        super().save_model(request, obj, form, change)

    def has_delete_permission(self, request, obj=None):
        return False  # a clinical record is kept; corrections are new versions in its history
