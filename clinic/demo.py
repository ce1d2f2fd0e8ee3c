"""Demo data for `make run`: the clinic's details and the demo logins.

Every step is an upsert keyed by a natural key, so running it twice changes
nothing. Later parts of the app add their own demo rows through ``seed``.
"""

from dataclasses import dataclass
from decimal import Decimal

from allauth.account.models import EmailAddress
from django.apps import apps
from django.contrib.auth.models import Group
from django.db import transaction
from django.db.models import QuerySet

from .models import ClinicDetails, User
from .roles import CLINICIAN, CONTENT_EDITOR, RECEPTION, roles_apply


@dataclass(frozen=True)
class DemoLogin:
    role: str
    email: str
    password: str
    full_name: str
    is_staff: bool
    is_superuser: bool
    group: str | None = None


# One login per staff role (clinic/roles.py), the owner with every right, and a patient.
DEMO_LOGINS = (
    DemoLogin("owner (all)", "staff@example.com", "demo-staff-2026", "Sam Owner", True, True),
    DemoLogin(
        "reception", "reception@example.com", "demo-reception-2026", "Rita Reception",
        True, False, RECEPTION,
    ),
    DemoLogin(
        "clinician", "clinician@example.com", "demo-clinician-2026", "Dr Priya Demo",
        True, False, CLINICIAN,
    ),
    DemoLogin(
        "content editor", "editor@example.com", "demo-editor-2026", "Eddie Editor",
        True, False, CONTENT_EDITOR,
    ),
    DemoLogin("patient", "patient@example.com", "demo-patient-2026", "Alex Patient", False, False),
)  # fmt: skip


def login_lines() -> list[str]:
    """The demo logins as seed_demo and demo_ready print them."""
    return [
        "Demo logins (for this laptop only):",
        *(f"  {x.role:<14} {x.email:<22} password: {x.password}" for x in DEMO_LOGINS),
    ]


CLINICIAN_LOGIN = "clinician@example.com"  # booking's demo links it to its practitioner
RECEPTION_LOGIN = "reception@example.com"  # booking's demo: the phone booking's staff

DEMO_CLINIC = {
    "name": "Riverside Skin Clinic",
    "address": "12 Riverside Walk\nLondon\nSE1 9XX",
    "phone": "020 7946 0123",
    "email": "hello@riverside-clinic.example",
    "opening_hours": (
        "Monday to Friday: 9am to 6pm\nSaturday: 9am to 1pm\nSunday and bank holidays: closed"
    ),
    "travel_notes": "\n".join(
        [
            "The nearest Tube stations are London Bridge and Southwark. Each is a 10-minute walk.",
            "Buses 344 and 381 stop on Southwark Street, 2 minutes from our door.",
            "We have no car park. You can pay to park on nearby streets, but spaces are hard "
            "to find on weekdays.",
            "Our door is the blue one next to the café. Press the bell that says Riverside.",
            "We are on the first floor. There is a lift, and there are no steps at the door.",
        ]
    ),
    "latitude": Decimal("51.506800"),
    "longitude": Decimal("-0.096500"),
}


@transaction.atomic
def seed() -> dict[str, QuerySet]:
    """Create or update the demo rows; return each model's rows, to count when all are in."""
    details = ClinicDetails.objects.filter(pk=1).first() or ClinicDetails()
    for field, value in DEMO_CLINIC.items():
        setattr(details, field, value)
    details.save()

    roles_apply(apps)
    for login in DEMO_LOGINS:
        user = User.objects.filter(email=login.email).first()
        if user is None:
            user = User.objects.create_user(login.email, login.password)
        user.full_name = login.full_name
        user.is_staff = login.is_staff
        user.is_superuser = login.is_superuser
        user.save()
        user.groups.set([Group.objects.get(name=login.group)] if login.group else [])
        EmailAddress.objects.update_or_create(
            user=user, email=login.email, defaults={"verified": True, "primary": True}
        )
    return {
        "clinic details": ClinicDetails.objects.all(),
        "users": User.objects.all(),
        "email addresses": EmailAddress.objects.all(),
    }
