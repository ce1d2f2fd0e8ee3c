"""System checks of our own: what `manage.py check --deploy` should say about a deployment."""

from django.conf import settings
from django.core.checks import Tags, Warning, register


@register(Tags.security, deploy=True)
def staff_two_factor(app_configs, **kwargs):
    if settings.STAFF_TWO_FACTOR_REQUIRED:
        return []
    return [
        Warning(
            "Staff can sign in to the admin without two-factor sign-in.",
            hint="Staff see patients' health records: leave STAFF_TWO_FACTOR_REQUIRED on "
            "(the production default) unless the clinic has another second factor in front.",
            id="clinic.W001",
        )
    ]
