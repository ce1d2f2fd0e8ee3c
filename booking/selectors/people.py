"""Who is asking: the signed-in user's patient record."""

from ..models import (
    Patient,
)


def patient_of(user) -> Patient | None:
    """The signed-in user's patient record, if they have one."""
    if not user.is_authenticated:
        return None
    return Patient.objects.filter(user=user).first()
