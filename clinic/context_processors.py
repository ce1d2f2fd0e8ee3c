from .models import ClinicDetails


def clinic_details(request):
    """The clinic's details for the footer and contact lines (cached, no query)."""
    return {"clinic": ClinicDetails.current()}
