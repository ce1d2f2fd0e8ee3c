"""What staff change in the admin: phone bookings, session moves and cancellations, time off."""

from datetime import date, datetime, timedelta

import pytest
from django.contrib.auth import get_user_model
from hypothesis import strategies as st

from booking.admin.phone_plan import new_key, plan_values, planned
from booking.availability import Slot
from booking.models import Course, Patient, Session, TimeOff
from booking.time_off import time_off_collisions
from tests.fuzz.clinic import Clinic
from tests.fuzz.endpoints import Endpoint, fixed, fuzz, ints_in
from tests.fuzz.junk import DATETIMES, TEXT
from tests.fuzz.states import signed_in
from tests.fuzz.stored import (
    assert_bookable,
    assert_course_valid,
    assert_patient_valid,
    changed_sessions,
    new_rows,
    nothing_stored,
    staff_moves_check,
)

pytestmark = pytest.mark.django_db
User = get_user_model()


def phone_patient_check(clinic, request, before, after):
    nothing_stored(before, after, but={"Patient", "User"})
    added = new_rows(Patient, before, after)
    assert added in (0, 1) and new_rows(User, before, after) in (0, added)
    if added:
        patient = Patient.objects.order_by("-pk").select_related("user").first()
        assert_patient_valid(patient)


def phone_plan_check(clinic, request, before, after):
    nothing_stored(before, after, but={"Course", "Session", "Reminder"})
    assert before.sessions.items() <= after.sessions.items(), "a booked session changed"
    added = new_rows(Course, before, after)
    assert added in (0, 1)
    if added:
        assert request.method == "post" and request.last("action") == "book"
        course = Course.objects.order_by("-pk").first()
        assert course.booked_by == clinic.reception
        assert_course_valid(course, by_staff=True)
        # Consent recorded by staff, as read aloud or to sign, and every answer "no"
        # (reception cannot go past a "yes": only a clinician can).
        assert course.consent_id and course.consent_method in ("phone", "paper")
        assert course.consent_recorded_by == clinic.reception
        answers = course.suitability_answers["questions"]
        assert len(answers) == clinic.treatment.questions.count()
        assert {a["answer"] for a in answers} <= {"no"}


def phone_plan_fields(clinic: Clinic) -> dict:
    first = clinic.slots[1]
    plan = planned(
        Slot(*_slot_parts(first, clinic)),
        treatment=clinic.treatment,
        sessions=3,
        patient=clinic.patient,
    )
    good = plan_values(plan)
    fields = {
        "treatment": st.just(str(clinic.treatment.pk)),
        "sessions": st.sampled_from(["3", "1", "6"]),
        "practitioner": st.sampled_from(["", str(clinic.a.pk), str(clinic.b.pk)]),
        "short_notice": st.sampled_from(["", "on"]),
        "first": st.sampled_from([first, *clinic.slots]),
        "key": st.builds(lambda _: new_key(), st.none()),
        "allow_short_notice": st.sampled_from(["", "on"]),
        "allow_outside_window": st.sampled_from(["", "on"]),
        "override_reason": st.sampled_from(["", "Patient asked by phone", "   "]),
        "consent_method": st.sampled_from(["phone", "paper", "online", ""]),
        "clinical_reason": st.sampled_from(["", "Seen in clinic, no concern."]),
        "action": st.just("book"),
    }
    for question in clinic.treatment.questions.all():
        fields[f"q{question.pk}"] = st.sampled_from(["no", "no", "yes", ""])
    for name, value in good.items():
        fields[name] = st.just(value)
    return fields


def _slot_parts(value: str, clinic: Clinic):
    start_text, pid = value.split("|")
    start = datetime.fromisoformat(start_text)
    return start, start + timedelta(minutes=clinic.treatment.appointment_minutes), int(pid)


def time_off_setup(client, clinic):
    signed_in("reception")(client, clinic)
    clinic.extra["sessions_on_3_june"] = list(
        Session.objects.filter(practitioner=clinic.a, start__date=date(2026, 6, 3))
    )


def time_off_fields(clinic: Clinic) -> dict:
    fields = {
        "start": st.sampled_from(["2026-06-03T09:00", "2026-06-03T13:00", "2026-06-05T09:00"]),
        "end": st.sampled_from(["2026-06-03T17:00", "2026-06-03T15:00", "2026-06-05T12:00"]),
        "reason": st.sampled_from(["Training", ""]),
        "resolving": st.just("1"),
    }
    for session in clinic.extra.get("sessions_on_3_june", []):
        fields[f"session_{session.pk}"] = st.sampled_from(["cancel", str(clinic.b.pk)])
    return fields


def time_off_check(clinic, request, before, after):
    nothing_stored(before, after, but={"TimeOff", "Session", "Reminder"})
    added = new_rows(TimeOff, before, after)
    assert added in (0, 1)
    changed = changed_sessions(before, after)
    if not added:
        assert not changed, "sessions were changed but the time off was not saved"
        return
    row = TimeOff.objects.order_by("-pk").first()
    assert row.end > row.start and len(row.reason) <= 200
    assert row.practitioner_id == clinic.a.pk
    collisions = time_off_collisions(practitioner=row.practitioner, start=row.start, end=row.end)
    assert not collisions, "time off over a booked session"
    for session in changed:
        if session.status != Session.Status.CANCELLED:
            assert_bookable(session, by_staff=True)


ENDPOINTS = [
    Endpoint(
        "phone booking: find or add a patient",
        fixed("/admin/booking/course/phone/", "/admin/booking/course/phone/patient/"),
        lambda c: {
            "q": st.sampled_from(["Pat", "07700", c.patient.user.email]),
            "full_name": st.sampled_from(["Phoebe Phone", "山田 花子"]),
            "email": st.one_of(st.emails(), st.just(c.patient.user.email)),
            "phone": st.sampled_from(["07700 900123", "+44 20 7946 0000"]),
            "date_of_birth": st.sampled_from(["1980-02-29", "", "2026-06-01"]),
        },
        check=phone_patient_check,
        setup=signed_in("reception"),
    ),
    Endpoint(
        "phone booking: the course and its plan",
        ints_in(
            "/admin/booking/course/phone/{}/",
            "/admin/booking/course/phone/{}/plan/",
            real=lambda c: [c.patient.pk] * 4 + [c.other_course.patient_id],
        ),
        phone_plan_fields,
        check=phone_plan_check,
        setup=signed_in("reception"),
        max_examples=50,
    ),
    Endpoint(
        "session move and cancel (admin)",
        ints_in(
            "/admin/booking/session/{}/move/",
            "/admin/booking/session/{}/cancel/",
            real=lambda c: [s.pk for s in c.sessions],
        ),
        lambda c: {
            "practitioner": st.sampled_from([str(c.a.pk), str(c.b.pk)]),
            "day": st.sampled_from(["2026-06-08", "2026-07-07"]),
            "start": st.sampled_from(
                [v.split("|")[0] for v in c.slots + c.later_slots]
                + [s.start.isoformat() for s in c.sessions]
            ),
            "notify": st.sampled_from(["yes", "no"]),
        },
        check=staff_moves_check,
        setup=signed_in("reception"),
        max_examples=40,
    ),
    Endpoint(
        "time off",
        ints_in("/admin/booking/practitioner/{}/time-off/", real=lambda c: [c.a.pk]),
        time_off_fields,
        check=time_off_check,
        setup=time_off_setup,
        max_examples=40,
    ),
    Endpoint(
        "time off query",
        lambda c: st.just(f"/admin/booking/practitioner/{c.a.pk}/time-off/"),
        lambda c: {
            "start": DATETIMES,
            "end": DATETIMES,
            "reason": TEXT,
            "change": st.sampled_from(["1", "²", "٣", "99999999999999999999999"]),
        },
        setup=signed_in("reception"),
        methods=("get",),
        max_examples=20,
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_generated_requests_never_fail_or_store_bad_rows(endpoint: Endpoint, clinic: Clinic):
    fuzz(endpoint, clinic)
