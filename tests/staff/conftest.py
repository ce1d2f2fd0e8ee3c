"""Staff accounts, one per role (the groups come from clinic's migration)."""

import pytest
from django.contrib.auth.models import Group

from clinic.roles import CLINICIAN, CONTENT_EDITOR, RECEPTION
from tests.booking.conftest import NOW, now, patient, practitioner, treatment  # noqa: F401
from tests.booking.factories import PractitionerFactory, UserFactory


def staff_user(role: str | None, email: str, **extra):
    user = UserFactory(email=email, is_staff=True, **extra)
    if role:
        user.groups.add(Group.objects.get(name=role))
    return user


@pytest.fixture
def reception(db):
    return staff_user(RECEPTION, "reception@clinic.example")


@pytest.fixture
def clinician(treatment):  # noqa: F811
    """A clinician user linked to their own practitioner row."""
    user = staff_user(CLINICIAN, "clinician@clinic.example")
    PractitionerFactory(treatments=[treatment], user=user, display_name="Dr Own")
    return user


@pytest.fixture
def editor(db):
    return staff_user(CONTENT_EDITOR, "editor@clinic.example")


@pytest.fixture
def superuser(db):
    return staff_user(None, "owner@clinic.example", is_superuser=True)


@pytest.fixture
def client_for(client):
    """client_for(user): the test client signed in as that user."""

    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in
