"""Sign-up, sign-in and the account pages."""

from urllib.parse import quote

import pytest
from allauth.account.models import EmailAddress
from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from hypothesis import strategies as st

from tests.fuzz.clinic import Clinic
from tests.fuzz.endpoints import Endpoint, fixed, fuzz
from tests.fuzz.junk import PATH_TOKENS, TEXT
from tests.fuzz.states import signed_in
from tests.fuzz.stored import is_email, new_rows, nothing_stored

pytestmark = pytest.mark.django_db
User = get_user_model()


PASSWORD = "a-Password-123"  # UserFactory's


def signup_check(clinic, request, before, after):
    nothing_stored(before, after, but={"User"})
    added = new_rows(User, before, after)
    assert added in (0, 1)
    if added:
        email, password = request.last("email"), request.last("password1")
        assert is_email(email), f"signed up {email!r}"
        assert password == request.last("password2")
        validate_password(password, User(email=email))


def account_pages_check(clinic, request, before, after):
    """Nothing booked or stored but the account's own rows; no unverified address is primary."""
    nothing_stored(before, after, but={"User"})
    assert new_rows(User, before, after) == 0
    primary_unverified = EmailAddress.objects.filter(
        primary=True, verified=False, user__is_staff=False, user__patient__isnull=False
    )
    assert not primary_unverified.exists(), list(primary_unverified.values("email"))


ENDPOINTS = [
    Endpoint(
        "sign up",
        fixed("/accounts/signup/"),
        lambda c: {
            "email": st.one_of(st.emails(), st.just(c.patient.user.email)),
            "password1": st.just("a-long-Patient-passphrase-42"),
            "password2": st.sampled_from(["a-long-Patient-passphrase-42", "other"]),
        },
        check=signup_check,
    ),
    Endpoint(
        "sign in and password reset",
        fixed("/accounts/login/", "/accounts/password/reset/"),
        lambda c: {
            "login": st.sampled_from([c.patient.user.email, "nobody@example.org"]),
            "email": st.sampled_from([c.patient.user.email, "nobody@example.org"]),
            "password": st.sampled_from([PASSWORD, "wrong"]),
            "remember": st.just("on"),
        },
    ),
    Endpoint(
        "account pages (signed in)",
        fixed(
            "/accounts/email/",
            "/accounts/password/change/",
            "/accounts/password/set/",
            "/accounts/reauthenticate/",
            "/accounts/logout/",
            "/accounts/2fa/",
            "/accounts/2fa/totp/activate/",
            "/accounts/2fa/recovery-codes/generate/",
            "/accounts/confirm-email/",
            "/accounts/login/code/confirm/",
        ),
        lambda c: {
            "action_add": st.just(""),
            "action_remove": st.just(""),
            "action_primary": st.just(""),
            "action_send": st.just(""),
            "email": st.one_of(
                st.emails(), st.sampled_from([c.patient.user.email, c.reception.email])
            ),
            "oldpassword": st.sampled_from([PASSWORD, "wrong"]),
            "password": st.sampled_from([PASSWORD, "wrong"]),
            "password1": st.sampled_from(["a-long-New-passphrase-43", "short"]),
            "password2": st.sampled_from(["a-long-New-passphrase-43", "other"]),
            "code": st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), TEXT),
        },
        check=account_pages_check,
        setup=signed_in("patient"),
        max_examples=40,
    ),
    Endpoint(
        "account pages with a key or token",
        lambda c: st.builds(
            lambda pattern, value: pattern.format(quote(value, safe="")),
            st.sampled_from(
                [
                    "/accounts/confirm-email/{}/",
                    "/accounts/password/reset/key/{}/",
                    "/accounts/password/reset/key/1-{}/",
                    "/accounts/welcome/{}/",
                    "/emails/stop/{}/",
                ]
            ),
            PATH_TOKENS,
        ),
        lambda c: {
            "password1": st.just("a-long-New-passphrase-43"),
            "password2": st.just("a-long-New-passphrase-43"),
        },
        check=account_pages_check,
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_generated_requests_never_fail_or_store_bad_rows(endpoint: Endpoint, clinic: Clinic):
    fuzz(endpoint, clinic)
