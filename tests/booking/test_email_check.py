"""The journey's details step checks the address with a code typed on the same page.

It reads the same whether or not the address has an account, signs a known
patient in, makes a verified account for a new one, never opens a staff or
two-factor account, and counts its codes with the sign-up form's.
"""

import re
from datetime import timedelta

import pytest
import time_machine
from allauth.account.models import EmailAddress
from allauth.mfa.models import Authenticator
from django.contrib.auth import get_user_model
from django.core import mail
from django.urls import reverse

from booking.models import ConsentText, Patient
from tests.booking.conftest import NOW, emailed_code
from tests.booking.factories import PatientFactory, UserFactory
from tests.booking.test_journey import walk_to_plan

pytestmark = pytest.mark.django_db
User = get_user_model()
DETAILS = reverse("booking:account")
PASSWORD = "a-long-Patient-passphrase-42"


@pytest.fixture
def at_details(client, now, treatment, practitioner):
    ConsentText.objects.create(version=1, text="I agree.")
    walk_to_plan(client, treatment)
    assert client.get(DETAILS).status_code == 200
    return client


def send(client, email):
    return client.post(DETAILS, {"action": "send", "email": email})


def type_code(client, code):
    return client.post(DETAILS, {"action": "code", "code": code})


def page_for(client, email) -> str:
    """The page after asking for a code, with the address itself taken out."""
    send(client, email)
    html = client.get(DETAILS).content.decode().replace(email, "ADDRESS")
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html)


def test_the_page_reads_the_same_for_a_patient_staff_and_nobody(at_details, client):
    PatientFactory(user__email="known@example.org")
    UserFactory(email="reception@example.org", is_staff=True)
    pages = []
    for email in ("known@example.org", "reception@example.org", "nobody@example.org"):
        pages.append(page_for(client, email))
        client.post(DETAILS, {"action": "change"})
    assert pages[0] == pages[1] == pages[2]
    assert "We have sent an email to" in pages[0]
    assert User.objects.filter(email="nobody@example.org").count() == 0  # nothing made yet


def test_a_known_patient_signs_in_with_the_code_and_goes_on_to_consent(at_details, client):
    patient = PatientFactory(user__email="known@example.org")
    send(client, "known@example.org")
    assert "_auth_user_id" not in client.session
    response = type_code(client, emailed_code("known@example.org"))
    assert response.status_code == 302
    assert int(client.session["_auth_user_id"]) == patient.user.pk
    assert client.get(DETAILS)["Location"] == reverse("booking:consent")


def test_a_new_address_becomes_a_verified_account_with_the_patients_own_password(
    at_details, client
):
    send(client, "new@example.org")
    type_code(client, emailed_code("new@example.org"))
    user = User.objects.get(email="new@example.org")
    assert EmailAddress.objects.get(user=user).verified
    assert not user.has_usable_password()
    page = client.get(DETAILS).content.decode()
    assert "Choose a password" in page
    client.post(DETAILS, {"full_name": "Nia New", "phone": "07700 900555", "password": PASSWORD})
    user.refresh_from_db()
    assert user.check_password(PASSWORD) and Patient.objects.get(user=user).full_name == "Nia New"
    assert int(client.session["_auth_user_id"]) == user.pk  # still signed in


@pytest.mark.parametrize("kind", ["staff", "two-factor", "closed"])
def test_no_code_opens_a_staff_two_factor_or_closed_account(at_details, client, kind):
    user = UserFactory(email="guarded@example.org", is_staff=kind == "staff")
    if kind == "two-factor":
        Authenticator.objects.create(user=user, type=Authenticator.Type.TOTP, data={})
    if kind == "closed":
        user.is_active = False
        user.save()
    send(client, "guarded@example.org")
    message = mail.outbox[-1]
    assert "cannot be opened with an emailed code" in message.body
    assert not re.search(r"\b\d{6}\b", message.subject + message.body)
    for guess in ("000000", "123456"):
        type_code(client, guess)
    assert "_auth_user_id" not in client.session


def test_five_wrong_codes_end_the_code(at_details, client):
    send(client, "new@example.org")
    right = emailed_code("new@example.org")
    wrong = f"{(int(right) + 1) % 10**6:06d}"
    for left in (4, 3, 2, 1):
        assert f"{left} tries left" in type_code(client, wrong).content.decode()
    assert type_code(client, wrong).status_code == 302  # the fifth: back to the address
    type_code(client, right)  # too late: the code is gone
    assert "_auth_user_id" not in client.session
    page = client.get(DETAILS).content.decode()
    assert "Email me a code" in page and "too many tries" not in page  # the message was shown


def test_a_code_works_for_15_minutes(at_details, client):
    with time_machine.travel(NOW, tick=False) as clock:
        send(client, "new@example.org")
        clock.shift(timedelta(minutes=16))
        type_code(client, emailed_code("new@example.org"))
    assert "_auth_user_id" not in client.session
    assert "expired" in client.get(DETAILS).content.decode()


def test_the_code_takes_over_an_account_whose_address_was_never_proved(at_details, client):
    """Someone signed up with this address and a password of theirs; its owner books."""
    squatter = UserFactory(email="owner@example.org", verified=False)
    send(client, "owner@example.org")
    type_code(client, emailed_code("owner@example.org"))
    squatter.refresh_from_db()
    assert int(client.session["_auth_user_id"]) == squatter.pk
    assert not squatter.has_usable_password()  # the squatter's password no longer opens it
    assert EmailAddress.objects.get(user=squatter, email="owner@example.org").verified


def test_the_code_takes_the_address_off_an_account_that_only_listed_it(at_details, client):
    other = UserFactory(email="other@example.org")
    EmailAddress.objects.create(user=other, email="owner@example.org", verified=False)
    send(client, "owner@example.org")
    type_code(client, emailed_code("owner@example.org"))
    owner = User.objects.get(email="owner@example.org")
    assert owner != other
    assert not EmailAddress.objects.filter(user=other, email="owner@example.org").exists()


def test_codes_count_with_sign_ups_at_the_sign_up_forms_rate(at_details, client, settings):
    settings.SIGN_UP_RATE = (3, 3600)
    for n in range(2):
        assert send(client, f"n{n}@example.org").status_code == 302
    signup = {"email": "s@example.org", "password1": PASSWORD, "password2": PASSWORD}
    assert client.post(reverse("account_signup"), signup).status_code == 302
    assert send(client, "n3@example.org").status_code == 429
    assert client.post(reverse("account_signup"), signup).status_code == 429


def test_one_address_gets_three_codes_a_quarter_of_an_hour(at_details, client):
    for _ in range(3):
        assert send(client, "flooded@example.org").status_code == 302
    assert send(client, "flooded@example.org").status_code == 429
    assert len([m for m in mail.outbox if m.to == ["flooded@example.org"]]) == 3
