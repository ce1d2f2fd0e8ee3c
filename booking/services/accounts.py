"""Accounts and patient records: the journey, phone booking and email codes make them here."""

from django.db import transaction

from ..models import Patient


def account_create(*, email: str, verified: bool, full_name: str = ""):
    """A patient's account with no password, its address as allauth keeps it.

    The journey's email code makes one verified (the patient typed the code);
    phone booking makes one unverified (reception typed the address), which
    the confirmation email's "choose a password" link verifies.
    """
    from allauth.account.models import EmailAddress
    from django.contrib.auth import get_user_model

    user = get_user_model().objects.create_user(email, None, full_name=full_name)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=verified)
    return user


@transaction.atomic
def patient_register(
    *,
    user=None,
    email: str = "",
    full_name: str,
    phone: str,
    date_of_birth=None,
    password: str | None = None,
) -> Patient:
    """A patient and their account, both or neither.

    Online the account exists (the email code made it, or the patient signed
    in); `password` is set when they had none. By phone (`user` None) reception
    typed the address: a new account with no password, not verified until the
    confirmation email's "choose a password" link is opened (booking/welcome.py).
    """
    if user is None:
        user = account_create(email=email, verified=False, full_name=full_name)
    if password:
        user.set_password(password)
        user.save(update_fields=["password"])
    return patient_create(user=user, full_name=full_name, phone=phone, date_of_birth=date_of_birth)


def patient_create(*, user, full_name: str, phone: str, date_of_birth=None) -> Patient:
    patient = Patient(
        user=user, full_name=full_name.strip(), phone=phone.strip(), date_of_birth=date_of_birth
    )
    patient.full_clean()
    patient.save()
    return patient
