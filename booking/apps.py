from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    """Practitioners, availability, courses, sessions and reminders."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "booking"
    verbose_name = _("Booking")

    def ready(self):
        from django.db.models.signals import post_delete

        from .models import Practitioner
        from .services.practitioners import practitioner_deleted
        from .waitlist import signals as waitlist_signals

        # However a practitioner is deleted (the admin's page, its bulk action, a shell).
        post_delete.connect(
            practitioner_deleted, sender=Practitioner, dispatch_uid="booking:photo-files"
        )
        # Time freed by time off, working hours or closures reaches the waitlist.
        waitlist_signals.connect()
