"""Patients sign up and sign in with their email, once they have verified it."""

import re

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import identify_hasher
from django.core import mail
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a-long-Patient-passphrase-42"


def link_in(message) -> str:
    match = re.search(r"https?://[^\s]+", message.body)
    assert match, message.body
    return match.group(0)


def sign_up(client, email="new.patient@example.org"):
    return client.post(
        reverse("account_signup"), {"email": email, "password1": PASSWORD, "password2": PASSWORD}
    )


def test_sign_up_sends_a_verification_link_and_signs_in_only_after_it(client):
    response = sign_up(client)
    assert response.status_code == 302
    assert response["Location"] == reverse("account_email_verification_sent")
    user = User.objects.get(email="new.patient@example.org")
    assert not client.get(reverse("home")).context["user"].is_authenticated
    assert len(mail.outbox) == 1
    assert mail.outbox[0].to == ["new.patient@example.org"]
    assert not EmailAddress.objects.get(user=user).verified
    response = client.post(
        reverse("account_login"), {"login": "new.patient@example.org", "password": PASSWORD}
    )
    assert not client.get(reverse("home")).context["user"].is_authenticated


def test_the_verification_link_verifies_the_address(client):
    sign_up(client)
    response = client.post(link_in(mail.outbox[0]))
    assert response.status_code == 302
    assert EmailAddress.objects.get(email="new.patient@example.org").verified


def verified_user(email: str, password: str = PASSWORD, **extra):
    user = User.objects.create_user(email, password, **extra)
    EmailAddress.objects.create(user=user, email=user.email, primary=True, verified=True)
    return user


def test_sign_in_with_email_and_password(client):
    verified_user("Returning@Example.org")
    response = client.post(
        reverse("account_login"), {"login": "returning@example.org", "password": PASSWORD}
    )
    assert response.status_code == 302
    assert client.get(reverse("home")).context["user"].email == "returning@example.org"


def test_a_wrong_password_says_so_and_signs_nobody_in(client):
    verified_user("someone@example.org")
    response = client.post(
        reverse("account_login"), {"login": "someone@example.org", "password": "wrong"}
    )
    assert response.status_code == 200
    assert "not correct" in response.content.decode()
    assert not response.context["user"].is_authenticated


def test_email_is_unique_whatever_its_case_and_sign_up_does_not_say_it_is_taken(client):
    verified_user("taken@example.org")
    new_address = sign_up(client, email="not.taken@example.org")
    response = sign_up(client, email="TAKEN@example.org")
    # The same answer as for a new address; the owner is told by email instead.
    assert (response.status_code, response["Location"]) == (
        new_address.status_code,
        new_address["Location"],
    )
    assert User.objects.filter(email__iexact="taken@example.org").count() == 1
    assert mail.outbox[-1].to == ["taken@example.org"]
    assert mail.outbox[-1].subject == "You already have an account with us"


def test_password_reset_by_email_link(client):
    User.objects.create_user("forgetful@example.org", "an-old-Passphrase-1")
    client.post(reverse("account_reset_password"), {"email": "forgetful@example.org"})
    assert len(mail.outbox) == 1
    form_url = client.get(link_in(mail.outbox[0]), follow=True).redirect_chain[-1][0]
    response = client.post(form_url, {"password1": PASSWORD, "password2": PASSWORD})
    assert response.status_code == 302
    assert client.login(email="forgetful@example.org", password=PASSWORD)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.Argon2PasswordHasher"])
def test_passwords_are_hashed_with_argon2():
    user = User.objects.create_user("hashed@example.org", PASSWORD)
    assert identify_hasher(user.password).algorithm == "argon2"


def test_staff_use_the_same_accounts_with_staff_rights(client):
    User.objects.create_user("reception@example.org", PASSWORD, is_staff=True)
    assert client.login(email="reception@example.org", password=PASSWORD)
    assert client.get(reverse("admin:index")).status_code == 200


def test_patients_cannot_open_the_admin(client):
    User.objects.create_user("patient@example.org", PASSWORD)
    client.login(email="patient@example.org", password=PASSWORD)
    assert client.get(reverse("admin:index")).status_code == 302
