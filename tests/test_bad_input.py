"""Junk posted to every form and page: never a 500, as a visitor, a patient and an owner.

A light pass (seeded, repeatable); the security issue brings hypothesis-driven
fuzzing on top.
"""

import random

import pytest
from django.core.management import call_command

from booking.models import Course

pytestmark = pytest.mark.django_db
JUNK = [
    "",
    "x",
    "0",
    "-1",
    "9" * 40,
    "<script>alert(1)</script>",
    "\x00",
    "é" * 300,
    "2026-02-30",
    "1|2",
    "2026-06-10T10:00:00+00:00|999",
    "None",
    "[]",
    "' OR 1=1 --",
]
FIELDS = [
    "treatment",
    "sessions",
    "practitioner",
    "slot",
    "q1",
    "q2",
    "agree",
    "key",
    "email",
    "full_name",
    "phone",
    "password",
    "login",
    "password1",
    "password2",
    "email_check_in",
    "day",
    "from",
    "later_3",
    "page",
    "q",
    "topic",
]


def test_junk_never_gives_a_server_error(client):
    call_command("seed_demo", "--quiet-logins")
    course = Course.objects.order_by("pk").first()
    session = course.sessions.order_by("number").first()
    urls = [
        "/",
        "/book/",
        "/book/course/",
        "/book/questions/",
        "/book/consultation/",
        "/book/practitioner/",
        "/book/time/",
        "/book/plan/",
        "/book/plan/2/",
        "/book/details/",
        "/book/consent/",
        "/book/confirm/",
        "/newsletter/",
        "/treatments/microneedling/suitability/",
        "/search/",
        "/articles/",
        "/faq/",
        "/accounts/login/",
        "/accounts/signup/",
        "/accounts/password/reset/",
        f"/appointments/sessions/{session.pk}/move/",
        f"/appointments/sessions/{session.pk}/move/confirm/",
        f"/appointments/sessions/{session.pk}/cancel/",
        f"/appointments/sessions/{session.pk}/again/",
        f"/appointments/courses/{course.pk}/cancel/",
        f"/appointments/courses/{course.pk}/replan/",
        "/appointments/preferences/",
    ]
    rng = random.Random(3)
    errors = []
    for who in ("visitor", "patient", "owner"):
        client.logout()
        if who == "patient":
            client.login(email="patient@example.com", password="demo-patient-2026")
        elif who == "owner":
            client.force_login(course.patient.user)
        client.get("/book/treatment/microneedling/")  # a journey under way
        for url in urls:
            for _ in range(8):
                data = {f: rng.choice(JUNK) for f in rng.sample(FIELDS, rng.randint(0, 6))}
                for method in ("get", "post"):
                    status = getattr(client, method)(url, data).status_code
                    if status >= 500:
                        errors.append((who, method, url, data, status))
    assert errors == []


def test_a_nul_character_is_refused_at_the_door(client):
    assert client.get("/search/", {"q": "a\x00b"}).status_code == 400
    assert client.post("/newsletter/", {"email": "a\x00@example.org"}).status_code == 400
