from unittest import mock

import pytest
from django.db.utils import OperationalError
from django.test import override_settings
from django.urls import reverse

pytestmark = pytest.mark.django_db


def test_healthz_names_each_service_and_answers_200_when_up(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert {"database", "broker", "cache"} <= body.keys()
    assert all(body[name]["ok"] for name in ("database", "broker", "cache"))
    assert response["Cache-Control"].startswith("max-age=0")


@override_settings(CELERY_BROKER_URL="redis://127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={})
def test_healthz_answers_503_when_the_broker_is_down(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    body = response.json()
    assert body["broker"]["ok"] is False
    assert body["broker"]["where"] == "redis://127.0.0.1:1"
    assert body["database"]["ok"] is True


def test_healthz_answers_503_when_the_database_is_down(client):
    with mock.patch("clinic.health.connection.cursor", side_effect=OperationalError("down")):
        response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json()["database"] == {
        "ok": False,
        "backend": mock.ANY,
        "error": "OperationalError",
    }


@override_settings(
    CELERY_BROKER_URL="redis://:s3cret@127.0.0.1:1/0", CELERY_BROKER_TRANSPORT_OPTIONS={}
)
def test_healthz_never_shows_a_password(client):
    assert b"s3cret" not in client.get(reverse("healthz")).content


REDIS_DOWN = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/0",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 1, "SOCKET_TIMEOUT": 1},
    }
}


@override_settings(
    CACHES=REDIS_DOWN,
    CELERY_BROKER_URL="redis://127.0.0.1:1/0",
    CELERY_BROKER_TRANSPORT_OPTIONS={},
)
def test_pages_still_serve_when_redis_is_down_and_healthz_says_so(client):
    # override_settings(CACHES=...) makes Django rebuild its cache handlers.
    assert client.get(reverse("home")).status_code == 200
    body = client.get(reverse("healthz")).json()
    assert body["cache"]["ok"] is False and body["cache"]["error"] == "ConnectionError"
    assert body["broker"]["ok"] is False


@override_settings(CACHES=REDIS_DOWN)
def test_signed_in_pages_and_rate_limited_forms_work_while_redis_is_down(client, rf):
    from clinic.security import rate_limit
    from tests.booking.factories import PatientFactory

    client.force_login(PatientFactory().user)  # the session is read from the database
    assert client.get(reverse("booking:appointments")).status_code == 200
    assert rate_limit(rf.post("/"), action="test", limit=1, period=60) is None  # not counted
