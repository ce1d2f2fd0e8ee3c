"""The booking journey, each step in the state it expects."""

import pytest
from django.contrib.auth import get_user_model
from hypothesis import strategies as st

from booking.models import Course, Patient, Session
from tests.fuzz.clinic import Clinic, slot_values
from tests.fuzz.endpoints import Endpoint, fixed, fuzz, ints_in, no_fields
from tests.fuzz.states import consulting, journey_to, signed_in, steps
from tests.fuzz.stored import assert_course_valid, assert_patient_valid, new_rows, nothing_stored

pytestmark = pytest.mark.django_db
User = get_user_model()


def journey_fields(clinic: Clinic) -> dict:
    """Every journey form's fields, good values first: each step reads what it needs."""
    return {
        "treatment": st.sampled_from([str(clinic.treatment.pk), str(clinic.consultation.pk)]),
        "sessions": st.sampled_from(["1", "3", "6"]),
        **{f"q{q.pk}": st.sampled_from(["no", "yes"]) for q in clinic.questions},
        "practitioner": st.sampled_from(["any", str(clinic.a.pk), str(clinic.b.pk)]),
        "slot": slot_values(clinic),
        "day": st.sampled_from(["2026-06-08", "2026-07-06"]),
        "from": st.sampled_from(["2026-06-08", "2026-07-06"]),
    }


def account_check(clinic, request, before, after):
    """Patient details in the journey: a patient (and an account) only from valid details."""
    nothing_stored(before, after, but={"Patient", "User"})
    added = new_rows(Patient, before, after)
    assert added in (0, 1) and new_rows(User, before, after) in (0, added)
    if added:
        assert request.method == "post" and request.body != "json"
        patient = Patient.objects.order_by("-pk").select_related("user").first()
        assert_patient_valid(patient)
        assert patient.full_name == request.last("full_name").strip()


def email_code_fuzz_check(clinic, request, before, after):
    """Without the emailed code nobody is signed in, and no account or patient is made."""
    nothing_stored(before, after)
    assert new_rows(User, before, after) == 0


def confirm_check(clinic, request, before, after):
    nothing_stored(before, after, but={"Course", "Session", "Reminder"})
    added = new_rows(Course, before, after)
    assert added in (0, 1)
    if added:
        assert request.method == "post" and request.last("key") == clinic.extra["journey_key"]
        course = Course.objects.order_by("-pk").first()
        assert course.patient == clinic.patient
        assert_course_valid(course, by_staff=False)
    else:
        assert new_rows(Session, before, after) == 0 and before.sessions == after.sessions


ENDPOINTS = [
    Endpoint(
        "journey: treatment",
        fixed("/book/", "/book/course/"),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "length"),
    ),
    Endpoint(
        "journey: course length and questions",
        fixed("/book/course/", "/book/questions/"),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "questions"),
    ),
    Endpoint(
        "journey: consultation instead",
        fixed("/book/consultation/", "/book/questions/", "/book/practitioner/"),
        journey_fields,
        setup=consulting,
        max_examples=20,
    ),
    Endpoint(
        "journey: practitioner",
        fixed("/book/practitioner/", "/book/time/"),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "practitioner"),
    ),
    Endpoint(
        "journey: first session",
        fixed("/book/time/"),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "time"),
    ),
    Endpoint(
        "journey: plan",
        lambda c: st.one_of(
            st.just("/book/plan/"),
            st.integers(-1, 10).map(lambda n: f"/book/plan/{n}/"),
            st.integers(0, 10**30).map(lambda n: f"/book/plan/{n}/"),
        ),
        journey_fields,
        setup=lambda client, clinic: journey_to(client, clinic, "plan"),
    ),
    Endpoint(
        "journey: email code",
        fixed("/book/details/"),
        lambda c: {
            "action": st.sampled_from(["send", "resend", "code", "change", "other"]),
            "email": st.one_of(st.emails(), st.just(c.patient.user.email.upper())),
            "code": st.one_of(st.from_regex(r"\A[0-9]{6}\Z"), st.text(max_size=30)),
            "full_name": st.sampled_from(["Nia Newpatient", "Ms O'Brien-Łukasz", "山田 花子"]),
            "password": st.sampled_from(["a-long-Patient-passphrase-42", "password"]),
        },
        check=email_code_fuzz_check,
        setup=lambda client, clinic: journey_to(client, clinic, "plan"),
    ),
    Endpoint(
        "journey: signed-in details",
        fixed("/book/details/"),
        lambda c: {
            "full_name": st.sampled_from(["Nia Newpatient", "山田 花子"]),
            "phone": st.sampled_from(["07700 900555", "+44 20 7946 0958"]),
        },
        check=account_check,
        setup=steps(
            signed_in("new user"), lambda client, clinic: journey_to(client, clinic, "plan")
        ),
    ),
    Endpoint(
        "journey: consent",
        fixed("/book/consent/"),
        lambda c: {"agree": st.sampled_from(["on", "true", "false", ""])},
        setup=steps(
            signed_in("patient"), lambda client, clinic: journey_to(client, clinic, "plan")
        ),
    ),
    Endpoint(
        "journey: confirm",
        fixed("/book/confirm/"),
        lambda c: {"key": st.sampled_from([c.extra["journey_key"], "x" * 32])},
        check=confirm_check,
        setup=steps(
            signed_in("patient"), lambda client, clinic: journey_to(client, clinic, "confirm")
        ),
    ),
    Endpoint(
        "journey: done",
        ints_in("/book/done/{}/", real=lambda c: [c.course.pk, c.other_course.pk]),
        no_fields,
        setup=signed_in("patient"),
        methods=("get",),
        max_examples=20,
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_generated_requests_never_fail_or_store_bad_rows(endpoint: Endpoint, clinic: Clinic):
    fuzz(endpoint, clinic)
