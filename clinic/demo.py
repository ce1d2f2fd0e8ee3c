"""Demo data for `make run`: the clinic's details and the demo logins.

Every step is an upsert keyed by a natural key, so running it twice changes
nothing. Later parts of the app add their own demo rows through ``seed``.
"""

from dataclasses import dataclass

from allauth.account.models import EmailAddress
from django.db import transaction

from .models import ClinicDetails, User


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    full_name: str
    is_staff: bool
    is_superuser: bool


DEMO_LOGINS = (
    DemoLogin("staff (admin)", "staff@example.com", "demo-staff-2026", "Sam Reception", True, True),
    DemoLogin("patient", "patient@example.com", "demo-patient-2026", "Alex Patient", False, False),
)

DEMO_CLINIC = {
    "name": "Riverside Skin Clinic",
    "address": "12 Riverside Walk\nLondon\nSE1 9XX",
    "phone": "020 7946 0123",
    "email": "hello@riverside-clinic.example",
    "opening_hours": (
        "Monday to Friday: 9am to 6pm\nSaturday: 9am to 1pm\nSunday and bank holidays: closed"
    ),
}


@transaction.atomic
def seed() -> dict[str, int]:
    """Create or update the demo rows; return how many rows each model has."""
    details = ClinicDetails.objects.filter(pk=1).first() or ClinicDetails()
    for field, value in DEMO_CLINIC.items():
        setattr(details, field, value)
    details.save()

    for login in DEMO_LOGINS:
        user = User.objects.filter(email=login.email).first()
        if user is None:
            user = User.objects.create_user(login.email, login.password)
        user.full_name = login.full_name
        user.is_staff = login.is_staff
        user.is_superuser = login.is_superuser
        user.save()
        EmailAddress.objects.update_or_create(
            user=user, email=login.email, defaults={"verified": True, "primary": True}
        )
    return {
        "clinic details": ClinicDetails.objects.count(),
        "users": User.objects.count(),
        "email addresses": EmailAddress.objects.count(),
    }
