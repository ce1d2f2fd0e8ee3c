"""Sign-in defences: lockout with a cool-off, rate limits with a clear page, the admin's
login going through the site's sign-in, two-factor for staff, and a log without secrets."""

import logging
from datetime import timedelta

import pytest
import time_machine
from allauth.mfa.models import Authenticator
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone

from tests.booking.factories import PatientFactory, UserFactory

PASSWORD = "a-Password-123"  # UserFactory's


def sign_in(client, email, password):
    return client.post(reverse("account_login"), {"login": email, "password": password})


@override_settings(AXES_ENABLED=True)
def test_repeated_wrong_passwords_lock_the_account_for_a_cool_off_only(client, db):
    user = PatientFactory().user
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        for _ in range(4):
            assert sign_in(client, user.email, "wrong").status_code == 200
        assert sign_in(client, user.email, "wrong").status_code == 429  # the fifth locks
        locked = sign_in(client, user.email, PASSWORD)  # even the right one, for now
        assert locked.status_code == 429
        assert "Try again in 15 minutes" in locked.content.decode()
        assert "_auth_user_id" not in client.session
        clock.shift(timedelta(minutes=16))
        assert sign_in(client, user.email, PASSWORD).status_code == 302


@override_settings(AXES_ENABLED=True)
def test_a_lockout_of_one_account_leaves_the_others_alone(client, db):
    victim, other = PatientFactory().user, PatientFactory().user
    for _ in range(6):
        sign_in(client, victim.email, "wrong")
    assert sign_in(client, other.email, PASSWORD).status_code == 302


def test_the_admin_login_is_the_sites_sign_in(client, db):
    response = client.get("/admin/login/?next=/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("account_login"))
    posted = client.post(
        "/admin/login/", {"username": "x@example.org", "password": "y", "next": "/admin/"}
    )
    assert posted.status_code == 302 and "_auth_user_id" not in client.session


def test_newsletter_sign_ups_are_rate_limited_with_a_clear_page(client, db, settings):
    settings.RATE_LIMIT_NEWSLETTER = (2, 600)
    for n in range(2):
        assert client.post("/newsletter/", {"email": f"n{n}@example.org"}).status_code != 429
    response = client.post("/newsletter/", {"email": "third@example.org"})
    assert response.status_code == 429
    assert int(response["Retry-After"]) <= 600
    assert "Try again in" in response.content.decode()


def test_booking_confirmations_are_rate_limited(client, db, settings):
    settings.RATE_LIMIT_BOOKING_CONFIRM = (1, 600)
    client.post(reverse("booking:confirm"), {})
    assert client.post(reverse("booking:confirm"), {}).status_code == 429


@pytest.mark.redis
def test_sign_up_is_rate_limited_on_the_shared_cache(client, db, settings):
    settings.SIGN_UP_RATE = (2, 3600)
    for n in range(3):
        response = client.post(
            reverse("account_signup"),
            {"email": f"s{n}@example.org", "password1": "x", "password2": "y"},
        )
    assert response.status_code == 429
    assert "Try again in" in response.content.decode()
    assert 0 < int(response["Retry-After"]) <= 3600  # the fixed hour's window


def test_staff_can_be_made_to_turn_on_two_factor_before_the_admin_opens(client, db, settings):
    staff = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(staff)
    assert client.get("/admin/").status_code == 200
    settings.STAFF_TWO_FACTOR_REQUIRED = True
    response = client.get("/admin/")
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("mfa_activate_totp"))
    Authenticator.objects.create(user=staff, type=Authenticator.Type.TOTP, data={"secret": "x"})
    assert client.get("/admin/").status_code == 200


def test_sign_in_events_are_logged_without_the_email_or_password(client, db, caplog):
    user = PatientFactory().user
    with caplog.at_level(logging.INFO, logger="clinic.security"):
        sign_in(client, user.email, "Wrong-Secret-991")
        sign_in(client, user.email, PASSWORD)
        client.post(reverse("account_logout"))
        client.force_login(PatientFactory().user)
        client.get("/admin/")  # a patient at the admin: refused
    messages = [r.getMessage() for r in caplog.records]
    assert {"sign-in failed", "signed in", "signed out"} <= set(messages)
    text = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in caplog.records)
    assert user.email not in text and "Wrong-Secret-991" not in text and PASSWORD not in text


def test_refused_access_is_logged_with_the_user_id(client, db, caplog):
    from django.contrib.auth.models import Group

    from clinic.roles import CONTENT_EDITOR

    editor = UserFactory(is_staff=True)
    editor.groups.add(Group.objects.get(name=CONTENT_EDITOR))
    client.force_login(editor)
    with caplog.at_level(logging.WARNING, logger="clinic.security"):
        response = client.get(reverse("admin:booking_session_changelist"))
    assert response.status_code == 403
    refused = [r for r in caplog.records if r.getMessage() == "access refused"]
    assert refused and refused[0].user_id == editor.pk
