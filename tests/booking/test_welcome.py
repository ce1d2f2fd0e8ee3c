"""The "choose a password" link of a phone-booked patient: 30 days, once, patients only."""

from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from django.utils import timezone

from booking.welcome import welcome_url, welcome_user
from tests.booking.factories import PatientFactory, UserFactory

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-Patient-passphrase-42"


def token_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


def post(client, url, password=PASSWORD):
    path = "/" + url.split("/", 3)[3]
    return client.post(path, {"password1": password, "password2": password})


def test_the_link_sets_a_password_verifies_the_address_and_signs_in(client):
    patient = PatientFactory(user=UserFactory(email="phoned@example.org", password=None))
    EmailAddress.objects.filter(user=patient.user).update(verified=False)
    response = post(client, welcome_url(patient.user))
    assert response.status_code == 302 and response["Location"] == "/appointments/"
    patient.user.refresh_from_db()
    assert patient.user.check_password(PASSWORD)
    assert EmailAddress.objects.get(user=patient.user, primary=True).verified
    assert int(client.session["_auth_user_id"]) == patient.user.pk


def test_the_link_works_once(client):
    user = UserFactory(email="phoned@example.org", password=None)
    url = welcome_url(user)
    post(client, url)
    client.logout()
    assert post(client, url, "another-long-passphrase-77").status_code == 404
    user.refresh_from_db()
    assert user.check_password(PASSWORD)


def test_the_link_lasts_30_days():
    user = UserFactory(email="phoned@example.org", password=None)
    url = welcome_url(user)
    with time_machine.travel(timezone.now() + timedelta(days=31)):
        assert welcome_user(token_of(url)) is None
    assert welcome_user(token_of(url)) == user


@pytest.mark.parametrize("change", ["staff", "password", "email", "closed"])
def test_the_link_stops_when_the_account_changes(change):
    user = UserFactory(email="phoned@example.org", password=None)
    url = welcome_url(user)
    if change == "staff":
        user.is_staff = True
    elif change == "password":
        user.set_password(PASSWORD)
    elif change == "email":
        user.email = "other@example.org"
    else:
        user.is_active = False
    user.save()
    assert welcome_user(token_of(url)) is None


def test_a_bad_password_is_refused_beside_the_field(client):
    user = UserFactory(email="phoned@example.org", password=None)
    response = post(client, welcome_url(user), "123")
    assert response.status_code == 400 and "There is a problem" in response.content.decode()
