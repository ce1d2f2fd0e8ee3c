"""Security headers and sessions: private pages never cached, idle sessions end, CSP strict."""

from datetime import timedelta

import pytest
import time_machine
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from tests.booking.factories import PatientFactory, UserFactory
from tests.clinic.test_settings import run_production


@pytest.fixture
def patient_client(client, db):
    client.force_login(PatientFactory().user)
    return client


def test_a_signed_in_patients_pages_are_never_stored(patient_client):
    for url in ("/appointments/", "/", "/faq/"):
        assert patient_client.get(url)["Cache-Control"] == "no-store", url


def test_booking_account_and_admin_pages_are_never_stored_even_signed_out(client, db):
    for url in ("/book/", "/accounts/login/", "/admin/login/"):
        assert client.get(url)["Cache-Control"] == "no-store", url


def test_public_pages_for_visitors_may_be_cached(client, db):
    assert "no-store" not in client.get("/faq/").get("Cache-Control", "")


def test_the_content_security_policy_allows_no_inline_script_and_no_framing(client, db):
    policy = client.get("/")["Content-Security-Policy"]
    directives = dict(
        (part.strip().split(" ", 1) + [""])[:2] for part in policy.split(";") if part.strip()
    )
    assert "'unsafe-inline'" not in directives["script-src"]
    assert "'unsafe-eval'" not in directives["script-src"]
    assert directives["frame-ancestors"] == "'none'"


@pytest.mark.parametrize(
    ("is_staff", "url", "idle_minutes"),
    [(False, "/appointments/", 30), (True, "/admin/", 15)],
    ids=["patient", "staff"],
)
def test_an_idle_session_ends(client, db, is_staff, url, idle_minutes):
    user = PatientFactory().user if not is_staff else UserFactory(is_staff=True)
    start = timezone.now()
    with time_machine.travel(start, tick=False) as clock:
        client.force_login(user)
        assert client.get(url).status_code == 200
        clock.shift(timedelta(minutes=idle_minutes - 1))
        assert client.get(url).status_code == 200  # active: the limit counts from here
        clock.shift(timedelta(minutes=idle_minutes + 1))
        response = client.get(url)
    assert response.status_code == 302
    assert "login" in response["Location"]


def test_production_cookies_use_the_host_prefix_and_are_secure():
    code = (
        "import django, json; django.setup(); from django.conf import settings as s; "
        "print(json.dumps([s.SESSION_COOKIE_NAME, s.CSRF_COOKIE_NAME, s.SESSION_COOKIE_SECURE, "
        "s.CSRF_COOKIE_SECURE, s.SESSION_COOKIE_DOMAIN, s.SECURE_HSTS_SECONDS]))"
    )
    result = run_production(code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == (
        '["__Host-sessionid", "__Host-csrftoken", true, true, null, 31536000]'
    )


def test_signing_in_works_with_the_idle_limit_in_place(client, db):
    user = PatientFactory().user
    response = client.post(
        reverse("account_login"), {"login": user.email, "password": "a-Password-123"}
    )
    assert response.status_code == 302
    assert client.get("/appointments/").status_code == 200


@pytest.mark.skipif(not settings.REDIS_URL, reason="sessions are cached only with Redis")
def test_a_cached_session_copy_lives_a_minute_at_most(client, db):
    from django.contrib.sessions.backends.cached_db import KEY_PREFIX
    from django.core.cache import cache

    client.force_login(PatientFactory().user)
    key = client.cookies[settings.SESSION_COOKIE_NAME].value
    client.get("/appointments/")
    assert cache.get(KEY_PREFIX + key) is not None  # read from Redis
    ttl = cache.ttl(KEY_PREFIX + key)  # django-redis
    assert 0 < ttl <= 60  # a copy a failed delete left behind stops counting within a minute


def test_the_429_page_names_the_longest_window_of_allauth_s_limits(settings):
    from clinic.security import _longest_window

    settings.ACCOUNT_RATE_LIMITS = {
        "a": "10/15m/ip,3/1h/key",
        "b": "20/m/ip",
        "c": "",
        "d": "5/2.5s",
    }
    assert _longest_window("a") == 3600
    assert _longest_window("b") == 60
    assert _longest_window("c") == 60  # none: a minute
    assert _longest_window("d") == 2
    assert _longest_window("missing") == 60
