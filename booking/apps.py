from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class BookingConfig(AppConfig):
    """Practitioners, availability, courses, sessions and reminders."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "booking"
    verbose_name = _("Booking")
