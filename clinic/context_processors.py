from django.conf import settings

from .models import ClinicDetails


def clinic_details(request):
    """The clinic's details (cached, no query) and this page's canonical URL."""
    return {
        "clinic": ClinicDetails.current(),
        "canonical_url": settings.SITE_URL + request.path,
    }
