"""The patient's own pages: appointments, preferences, moves, cancellations, replans."""

import pytest
from django.contrib.auth import get_user_model
from hypothesis import strategies as st

from booking.journey import slot_value
from booking.models import BookingRules, Course, Session
from booking.selectors import bookable_bounds, courses_breaking_rules
from booking.services import extension_proposals, session_cancel
from tests.booking.conftest import NOW
from tests.fuzz.clinic import Clinic, slot_values
from tests.fuzz.endpoints import Endpoint, fixed, fuzz, ints_in, no_fields
from tests.fuzz.junk import DATES
from tests.fuzz.states import signed_in
from tests.fuzz.stored import (
    assert_bookable,
    assert_moves_valid,
    changed_sessions,
    new_rows,
    nothing_stored,
)

pytestmark = pytest.mark.django_db
User = get_user_model()


def patient_moves_check(clinic, request, before, after):
    assert_moves_valid(before, after, by_staff=False)
    own = {s.pk for s in Session.objects.filter(patient=clinic.patient)}
    assert {s.pk for s in changed_sessions(before, after)} <= own, "another patient's session"


def course_extend_check(clinic, request, before, after):
    """At most one session added (one more, or a cancelled one booked again), to the patient's
    own course, and every rule still held."""
    nothing_stored(before, after, but={"Session", "Reminder", "Course"})
    assert new_rows(Course, before, after) == 0
    assert new_rows(Session, before, after) in (0, 1)
    assert before.sessions.items() <= after.sessions.items(), "a booked session changed"
    if new_rows(Session, before, after):
        added = Session.objects.order_by("-pk").first()
        assert added.patient_id == clinic.patient.pk and request.method == "post"
        earliest, _latest = bookable_bounds(NOW, BookingRules.current())
        assert added.start >= earliest, f"{added} is inside the minimum notice"
        assert_bookable(added, by_staff=False)
        broken = courses_breaking_rules(now=NOW, courses=Course.objects.filter(pk=added.course_id))
        assert broken == [], [b.message for e in broken for b in e.breaches]


def rebook_setup(client, clinic):
    """Session 3 cancelled, so it can be booked again; its free times among the slots posted."""
    signed_in("patient")(client, clinic)
    session_cancel(session=clinic.sessions[2], now=NOW)
    clinic.extra["again"] = [
        slot_value(s) for s in extension_proposals(course=clinic.course, now=NOW)
    ]


def replan_setup(client, clinic):
    signed_in("patient")(client, clinic)
    session = client.session
    session["booking_replan"] = {
        "course": clinic.course.pk,
        "session": clinic.sessions[1].pk,
        "action": "move",
        "slot": clinic.later_slots[0],
        "message": "Session 3 must be between two dates.",
        "proposals": [[3, clinic.later_slots[-1], "The session before it moved."], [2, "", "x"]],
    }
    session.save()


ENDPOINTS = [
    Endpoint(
        "appointments and preferences",
        fixed("/appointments/", "/appointments/preferences/"),
        lambda c: {
            "email_check_in": st.sampled_from(["on", "", "false"]),
            "email_next_window": st.sampled_from(["on", "", "false"]),
        },
        check=lambda clinic, request, before, after: nothing_stored(before, after, but={"Patient"}),
        setup=signed_in("patient"),
    ),
    Endpoint(
        "move a session",
        ints_in(
            "/appointments/sessions/{}/move/",
            "/appointments/sessions/{}/move/confirm/",
            real=lambda c: [s.pk for s in c.sessions] + [c.other_course.sessions.first().pk],
        ),
        lambda c: {
            "slot": slot_values(c),
            "day": DATES,
            "from": DATES,
            "later_3": slot_values(c),
        },
        check=patient_moves_check,
        setup=signed_in("patient"),
        max_examples=40,
    ),
    Endpoint(
        "cancel a session or course, calendar files",
        ints_in(
            "/appointments/sessions/{}/cancel/",
            "/appointments/courses/{}/cancel/",
            "/appointments/sessions/{}/calendar.ics",
            "/appointments/courses/{}/calendar.ics",
            real=lambda c: [s.pk for s in c.sessions] + [c.course.pk, c.other_course.pk],
        ),
        no_fields,
        check=patient_moves_check,
        setup=signed_in("patient"),
    ),
    Endpoint(
        "replan",
        ints_in("/appointments/courses/{}/replan/", real=lambda c: [c.course.pk]),
        no_fields,
        check=patient_moves_check,
        setup=replan_setup,
        max_examples=15,
    ),
    Endpoint(
        "add a session to a course",
        ints_in("/appointments/courses/{}/add/", real=lambda c: [c.course.pk]),
        lambda c: {"slot": slot_values(c)},
        check=course_extend_check,
        setup=signed_in("patient"),
        max_examples=20,
    ),
    Endpoint(
        "book a cancelled session again",
        ints_in(
            "/appointments/sessions/{}/again/",
            real=lambda c: [s.pk for s in c.sessions] + [c.other_course.sessions.first().pk],
        ),
        lambda c: {"slot": st.sampled_from(c.extra["again"]) | slot_values(c)},
        check=course_extend_check,
        setup=rebook_setup,
        max_examples=20,
    ),
]


@pytest.mark.parametrize("endpoint", ENDPOINTS, ids=[e.name for e in ENDPOINTS])
def test_generated_requests_never_fail_or_store_bad_rows(endpoint: Endpoint, clinic: Clinic):
    fuzz(endpoint, clinic)
