"""The staff admin's reading pages: search, exports, the schedule, pages by id, notes."""

from decimal import Decimal

import pytest
from django.contrib.auth import get_user_model
from hypothesis import strategies as st

from booking.models import ClinicalNote
from tests.fuzz.clinic import Clinic
from tests.fuzz.endpoints import Endpoint, fixed, fuzz, no_fields, with_ids
from tests.fuzz.junk import SEARCHES
from tests.fuzz.states import signed_in
from tests.fuzz.stored import new_rows, nothing_stored, staff_moves_check

pytestmark = pytest.mark.django_db
User = get_user_model()


ADMIN_OBJECT_PAGES = (
    "/admin/booking/patient/{}/change/",
    "/admin/booking/patient/{}/history/",
    "/admin/booking/patient/{patient}/history/{}/",
    "/admin/booking/session/{}/history/",
    "/admin/booking/session/{session}/history/{}/",
    "/admin/booking/course/{course}/history/{}/",
    "/admin/booking/course/{}/change/",
    "/admin/booking/session/{}/change/",
    "/admin/booking/session/{}/move/",
    "/admin/booking/session/{}/cancel/",
    "/admin/booking/session/{}/attended/",
    "/admin/booking/practitioner/{}/time-off/",
    "/admin/booking/practitioner/{}/change/",
    "/admin/booking/reminder/{}/change/",
    "/admin/booking/clinicalnote/{}/change/",
    "/admin/booking/timeoff/{}/change/",
)


def clinical_note_check(clinic, request, before, after):
    nothing_stored(before, after, but={"ClinicalNote"})
    if new_rows(ClinicalNote, before, after):
        note = ClinicalNote.objects.order_by("-pk").first()
        assert note.session_id == clinic.own_session.pk, "a note on another's session"
        assert note.needle_depth_mm is None or (
            Decimal("0.10") <= note.needle_depth_mm <= Decimal("3.00")
        )
        assert len(note.device) <= 120


ENDPOINTS = [
    Endpoint(
        "admin search, exports and autocomplete",
        fixed(
            "/admin/booking/session/",
            "/admin/booking/patient/",
            "/admin/booking/course/",
            "/admin/booking/reminder/",
            "/admin/booking/session/export/",
            "/admin/clinic/user/",
            "/admin/autocomplete/",
        ),
        lambda c: {
            "q": SEARCHES,
            "term": SEARCHES,
            "app_label": st.sampled_from(["booking", "clinic", "x"]),
            "model_name": st.sampled_from(["session", "course", "clinicalnote", "practitioner"]),
            "field_name": st.sampled_from(["patient", "course", "session", "user", "nope"]),
            "o": st.sampled_from(["1", "-2", "99", "x"]),
        },
        setup=signed_in("reception"),
        methods=("get",),
        max_examples=30,
    ),
    Endpoint(
        "schedule",
        fixed(
            "/admin/booking/scheduleentry/",
            "/admin/booking/scheduleentry/day/",
            "/admin/booking/scheduleentry/week/",
            "/admin/booking/scheduleentry/day.csv",
        ),
        lambda c: {
            "date": st.sampled_from(["2026-06-09", "2026-06-01"]),
            "practitioner": st.sampled_from([str(c.a.pk), str(c.b.pk)]),
            "treatment": st.just(str(c.treatment.pk)),
            "cancelled": st.sampled_from(["on", "1"]),
        },
        setup=signed_in("reception"),
        methods=("get",),
        max_examples=40,
    ),
    Endpoint(
        "admin pages by id (reception)",
        with_ids(*ADMIN_OBJECT_PAGES),
        no_fields,
        check=staff_moves_check,
        setup=signed_in("reception"),
        max_examples=40,
    ),
    Endpoint(
        "admin pages by id (superuser)",
        with_ids(*ADMIN_OBJECT_PAGES),
        no_fields,
        check=staff_moves_check,
        setup=signed_in("superuser"),
        methods=("get",),
        max_examples=30,
    ),
    Endpoint(
        "admin pages by id (clinician)",
        with_ids(*ADMIN_OBJECT_PAGES, "/admin/booking/clinicalnote/add/?session={}"),
        no_fields,
        check=staff_moves_check,
        setup=signed_in("clinician"),
        methods=("get",),
        max_examples=25,
    ),
    Endpoint(
        "clinical note (clinician)",
        fixed("/admin/booking/clinicalnote/add/"),
        lambda c: {
            "session": st.sampled_from([str(c.own_session.pk), str(c.sessions[0].pk)]),
            "skin_reaction": st.just("Mild redness"),
            "device": st.just("Dermapen 4"),
            "needle_depth_mm": st.sampled_from(["0.5", "3.00", "0.10", "3.01", "NaN", "-1"]),
            "notes": st.just(""),
            "_save": st.just("Save"),
        },
        check=clinical_note_check,
        setup=signed_in("clinician"),
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_generated_requests_never_fail_or_store_bad_rows(endpoint: Endpoint, clinic: Clinic):
    fuzz(endpoint, clinic)
