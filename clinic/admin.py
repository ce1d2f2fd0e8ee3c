from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _

from .admin_access import FieldAccessAdmin
from .models import ClinicDetails, User


@admin.register(User)
class UserAdmin(FieldAccessAdmin, DjangoUserAdmin):
    """Accounts. Staff status, superuser, groups and permissions are the owner's alone
    (clinic/roles.py OWNER_ONLY): read-only to anyone else who may open this page."""

    ordering = ["email"]
    list_display = ["email", "full_name", "is_staff", "is_active", "date_joined"]
    list_filter = ["is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["email", "full_name"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        (_("Personal info"), {"fields": ["full_name"]}),
        (
            _("Permissions"),
            {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]},
        ),
        (_("Important dates"), {"fields": ["last_login", "date_joined"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "full_name", "password1", "password2"]}),
    ]


class SingletonAdmin(FieldAccessAdmin):
    """For a SingletonModel: add it once, never delete it."""

    def has_add_permission(self, request):
        # The role's permission first; then the cached row (no query on every admin page).
        return super().has_add_permission(request) and self.model.current().pk is None

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ClinicDetails)
class ClinicDetailsAdmin(SingletonAdmin):
    list_display = ["name", "phone", "email"]
    fieldsets = [
        (None, {"fields": ["name", "address", "phone", "email", "opening_hours"]}),
        (
            _("Directions"),
            {
                "fields": ["travel_notes", "latitude", "longitude"],
                "description": _(
                    'Shown as "Finding us" after booking, on My appointments and in the '
                    "emails before a visit, with a link to the clinic on OpenStreetMap."
                ),
            },
        ),
    ]
