"""The attacker's walk-through (issue 15): each finding, tried again over HTTP as it was found.

Each test here failed on the code the walk-through probed. The classes each
finding belongs to are tested where they live (the access table, the email
walk, the privacy log test); these keep the findings themselves from coming back.
"""

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.urls import reverse

pytestmark = pytest.mark.django_db
User = get_user_model()
PASSWORD = "a-long-Patient-passphrase-42"


def signed_up(email: str, *, verified: bool = True):
    user = User.objects.create_user(email, PASSWORD)
    EmailAddress.objects.create(user=user, email=email, primary=True, verified=verified)
    return user


# --- 2. GET /accounts/logout/ and the email-confirmation links answered 500 ------------


def test_the_sign_out_page_opens_for_a_signed_in_patient(client):
    client.force_login(signed_up("leaving@example.org"))
    page = client.get(reverse("account_logout"))
    assert page.status_code == 200
    assert b'action="/accounts/logout/"' in page.content
