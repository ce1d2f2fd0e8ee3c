from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ClinicConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "clinic"
    verbose_name = _("Clinic")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import (
            caching,
            checks,  # noqa: F401 - registers the deploy checks
        )
        from .roles import roles_restore

        caching.connect()  # what each save clears in the cache

        post_migrate.connect(roles_restore, dispatch_uid="clinic.roles_restore")
