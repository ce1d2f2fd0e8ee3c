"""What the fuzzing found, kept as plain regression tests."""

import pytest
from django.test import Client

from booking.admin.phone_plan import new_key
from tests.fuzz.states import journey_to, signed_in
from tests.fuzz.stored import nothing_stored, snapshot

pytestmark = pytest.mark.django_db


END_OF_TIME = "9999-12-31T23:59:59+00:00|{a}"  # its end (+75 minutes) does not exist
START_OF_TIME = "0001-01-01T00:00:00+14:00|{a}"  # its clinic-time date is before year 1
FOUND = [
    ("anonymous", "get", "/newsletter/unsubscribe/%00/", {}),
    ("anonymous", "post", "/newsletter/unsubscribe/%00/", {}),
    ("time", "post", "/book/time/", {"slot": END_OF_TIME}),
    ("time", "post", "/book/time/", {"slot": START_OF_TIME}),
    ("plan", "post", "/book/plan/2/", {"slot": END_OF_TIME}),
    ("patient", "post", "/appointments/sessions/{session2}/move/confirm/", {"slot": END_OF_TIME}),
    ("patient", "get", "/appointments/sessions/{session2}/move/confirm/", {"slot": END_OF_TIME}),
    ("reception", "get", "/admin/booking/course/phone/{patient}/plan/", "first"),
    ("reception", "post", "/admin/booking/course/phone/{patient}/plan/", "first"),
    ("reception", "post", "/admin/booking/course/phone/{patient}/plan/", "use"),
    ("reception", "post", "/admin/booking/session/{session1}/move/", "start"),
    ("reception", "get", "/admin/booking/practitioner/{a}/time-off/", {"change": "²"}),
    ("reception", "get", "/admin/booking/practitioner/{a}/time-off/", {"change": "9" * 10000}),
    (
        "reception",  # a stored phone number of superscripts
        "post",
        "/admin/booking/course/phone/patient/",
        {"full_name": "Sue Script", "email": "sue@example.org", "phone": "¹²³⁴⁵⁶⁷⁸⁹"},
    ),
    ("reception", "get", "/admin/booking/patient/%C2%B2/change/", {}),
    ("reception", "get", "/admin/booking/patient/abc/history/", {}),
    ("reception", "get", "/admin/booking/course/{course}/history/abc/", {}),
    ("superuser", "get", "/admin/booking/session/abc/change/", {}),
    ("clinician", "get", "/admin/booking/session/_2F/change/", {}),
    ("superuser", "get", "/admin/booking/clinicalnote/%C2%B2/history/", {}),
]


@pytest.mark.parametrize(("who", "method", "path", "data"), FOUND)
def test_what_fuzzing_found_is_answered_without_a_500(clinic, who, method, path, data):
    client = Client()
    if who in ("time", "plan"):
        journey_to(client, clinic, who)
    elif who != "anonymous":
        signed_in(who)(client, clinic)
    ids = {
        "a": clinic.a.pk,
        "patient": clinic.patient.pk,
        "course": clinic.course.pk,
        "session1": clinic.sessions[0].pk,
        "session2": clinic.sessions[1].pk,
    }
    if data == "first":  # the phone booking's chosen first session
        choice = {"treatment": clinic.treatment.pk, "sessions": 3, "action": "book"}
        data = {**choice, "first": END_OF_TIME, "key": new_key()}
    elif data == "use":  # an alternative put into the plan
        choice = {"treatment": clinic.treatment.pk, "sessions": 3}
        data = {**choice, "first": clinic.slots[0], "use": "1|" + START_OF_TIME}
    elif data == "start":  # the admin's move to another time
        data = {"practitioner": clinic.a.pk, "start": START_OF_TIME.split("|")[0]}
    data = {k: v.format(**ids) if isinstance(v, str) else v for k, v in data.items()}
    before = snapshot()
    response = getattr(client, method)(path.format(**ids), data)
    assert response.status_code in (200, 302, 400, 404)
    nothing_stored(before, snapshot())
