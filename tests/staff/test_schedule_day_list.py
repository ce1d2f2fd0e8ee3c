"""The day list under the grid, which is what the treatment room prints: each session's
time, patient, phone number, treatment, "Session k of n", practitioner and status; the
phone numbers only for staff who may see patients' contact details."""

import csv
import io
from dataclasses import replace

import pytest
from django.conf import settings
from django.urls import reverse

from clinic.roles import ACCESS, RECEPTION
from tests.booking.factories import PatientFactory, SessionFactory
from tests.helpers import at
from tests.staff.test_schedule import find, page, text

DAY = reverse("admin:booking_schedule_day")
CSV = reverse("admin:booking_schedule_csv")
STYLESHEET = "static/css/admin-schedule.css"


def day_list(client, **params) -> list[list[str]]:
    (section,) = find(page(client, DAY, **params), "section", "schedule-day-list")
    return [
        [text(cell) for cell in tr.children if not isinstance(cell, str)]
        for tr in find(section, "tr")
    ]


@pytest.fixture
def second_session(treatment, practitioner):
    """Session 2 of 3 of Pat Printed's course, Monday 1 June at 14:05 (a 24-hour time)."""
    course = SessionFactory(
        course__patient=PatientFactory(full_name="Pat Printed", phone="07700 900321"),
        course__practitioner=practitioner,
        course__treatment=treatment,
        start=at(5, 4, 14, 5),
        attended=True,
    ).course
    return SessionFactory(course=course, start=at(6, 1, 14, 5))


@pytest.fixture
def phone_hidden(monkeypatch):
    """Reception as a clinic could set it in clinic/roles.py: patients without their phone."""
    seen = ACCESS[RECEPTION]["booking.patient"]
    monkeypatch.setitem(ACCESS[RECEPTION], "booking.patient", replace(seen, hidden=("phone",)))


def test_the_day_list_has_each_sessions_details_and_phone_number_for_reception(
    client_for, reception, practitioner, second_session, now
):
    rows = day_list(client_for(reception), date="2026-06-01")
    assert rows == [
        ["Time", "Patient", "Phone", "Treatment", "Course", "Practitioner", "Status"],
        [
            "14:05–15:20",
            "Pat Printed",
            "07700 900321",
            "Microneedling",
            "Session 2 of 3",
            practitioner.display_name,
            "○ Booked",
        ],
    ]


def test_a_clinician_sees_their_own_patients_phone_numbers(client_for, clinician, treatment, now):
    SessionFactory(
        course__patient=PatientFactory(phone="07700 900999"),
        course__practitioner=clinician.practitioner,
        course__treatment=treatment,
        start=at(6, 1, 10),
    )
    rows = day_list(client_for(clinician), date="2026-06-01")
    assert rows[0][2] == "Phone" and rows[1][2] == "07700 900999"


def test_staff_whose_role_hides_patients_phones_get_none(
    client_for, reception, phone_hidden, second_session, now
):
    client = client_for(reception)
    rows = day_list(client, date="2026-06-01")
    assert rows[0] == ["Time", "Patient", "Treatment", "Course", "Practitioner", "Status"]
    assert "07700 900321" not in client.get(DAY, {"date": "2026-06-01"}).content.decode()
    sheet = list(csv.reader(io.StringIO(client.get(CSV, {"date": "2026-06-01"}).content.decode())))
    assert sheet[0] == ["Start", "End", "Practitioner", "Patient", "Treatment", "Session", "Status"]
    assert sheet[1][4:] == ["Microneedling", "2 of 3", "Booked"]


def test_printing_shows_the_day_list_alone():
    css = (settings.BASE_DIR / STYLESHEET).read_text()
    printed = css[css.index("@media print") :]
    hidden = printed[: printed.index("display: none")]
    for part in (".schedule-toolbar", ".schedule-key", ".schedule-scroll", ".schedule-free"):
        assert part in hidden
    assert ".schedule-day-list" not in hidden
