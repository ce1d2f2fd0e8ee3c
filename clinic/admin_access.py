"""The admin side of clinic/roles.py's table: hidden fields and the owner's own fields.

Every ModelAdmin of the project mixes this in (booking, clinic): a field a
role must not see is left out of its pages and lists, and a field that widens
an account's reach (OWNER_ONLY) is read-only to everyone but the owner and,
for the owner, offers staff accounts only.
"""

from django.contrib import admin
from django.contrib.auth import get_user_model

from .roles import OWNER_ONLY, hidden_fields, owner_only_fields


def _without(names, hidden: set[str]) -> list:
    return [name for name in names if name not in hidden]


class FieldAccessAdmin(admin.ModelAdmin):
    def _hidden(self, request) -> set[str]:
        return hidden_fields(request.user, self.opts.label_lower)

    def get_fields(self, request, obj=None):
        return _without(super().get_fields(request, obj), self._hidden(request))

    def get_fieldsets(self, request, obj=None):
        hidden = self._hidden(request)
        return [
            (name, {**options, "fields": _without(options["fields"], hidden)})
            for name, options in super().get_fieldsets(request, obj)
        ]

    def get_list_display(self, request):
        return _without(super().get_list_display(request), self._hidden(request))

    def get_readonly_fields(self, request, obj=None):
        readonly = list(super().get_readonly_fields(request, obj))
        owner_only = owner_only_fields(request.user, self.opts.label_lower)
        return readonly + [name for name in sorted(owner_only) if name not in readonly]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name in OWNER_ONLY.get(self.opts.label_lower, ()) and (
            db_field.related_model is get_user_model()
        ):
            # A practitioner's account is a staff account: never a patient's.
            kwargs["queryset"] = get_user_model().objects.filter(is_staff=True).order_by("email")
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
