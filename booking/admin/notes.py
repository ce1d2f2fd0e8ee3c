"""Clinical notes: clinicians only, each on their own sessions, every version kept."""

from django.contrib import admin
from simple_history.admin import SimpleHistoryAdmin

from ..models import ClinicalNote, Session
from .base import ScopedAdmin
from .sessions import SessionAdmin


@admin.register(ClinicalNote)
class ClinicalNoteAdmin(ScopedAdmin, SimpleHistoryAdmin):
    """Clinicians only (the role's permissions); each sees the notes of their own sessions."""

    list_display = ["session", "device", "needle_depth_mm", "updated_at", "written_by"]
    list_select_related = ["session__patient", "written_by"]
    search_fields = ["session__patient__full_name"]
    raw_id_fields = ["session"]
    fields = ["session", "skin_reaction", "device", "needle_depth_mm", "notes"]

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
