from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EducationConfig(AppConfig):
    """Treatments, articles, FAQs and the newsletter. Never imports booking."""

    default_auto_field = "django.db.models.BigAutoField"
    name = "education"
    verbose_name = _("Patient education")

    def ready(self):
        from . import signals

        signals.connect()
