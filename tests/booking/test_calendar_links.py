"""'Add to Google Calendar' and 'Add to Outlook': the session's event, in UTC, nothing personal."""

from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from icalendar import Calendar

from booking.calendar_files import google_calendar_url, outlook_calendar_url, sessions_ics
from clinic.models import ClinicDetails
from tests.booking.factories import CourseFactory, PatientFactory, SessionFactory
from tests.helpers import at

pytestmark = pytest.mark.django_db


@pytest.fixture
def clinic():
    return ClinicDetails.objects.create(
        name="Harbourside Skin Clinic",
        address="1 Quay Street\nBristol\nBS1 4XX",
        phone="0117 496 0000",
        email="desk@harbourside.example",
        opening_hours="Monday to Friday: 9am to 5pm",
    )


def query(url: str) -> dict[str, str]:
    values = parse_qs(urlsplit(url).query, strict_parsing=True)
    assert all(len(v) == 1 for v in values.values()), values
    return {name: v[0] for name, v in values.items()}


def session_at(start: datetime):
    course = CourseFactory(patient=PatientFactory(full_name="Orla O'Brien"))
    return SessionFactory(course=course, start=start, number=2)


# Clocks go back on 25 October 2026 and forward on 28 March 2027 (Europe/London).
AROUND_CHANGES = [
    (at(10, 22, 10), datetime(2026, 10, 22, 9, tzinfo=UTC)),  # summer time: 10:00 is 09:00 UTC
    (at(10, 29, 10), datetime(2026, 10, 29, 10, tzinfo=UTC)),  # the week after: GMT
    (at(3, 25, 10, year=2027), datetime(2027, 3, 25, 10, tzinfo=UTC)),  # GMT
    (at(4, 1, 10, year=2027), datetime(2027, 4, 1, 9, tzinfo=UTC)),  # the week after: BST
]


@pytest.mark.parametrize(("start", "utc"), AROUND_CHANGES)
def test_google_link_has_the_sessions_event_in_utc(clinic, start, utc):
    session = session_at(start)
    url = google_calendar_url(session, clinic)
    assert url.startswith("https://calendar.google.com/calendar/render?")
    got = query(url)
    assert got["action"] == "TEMPLATE"
    assert got["text"] == "Microneedling: session 2 of 3 at Harbourside Skin Clinic"
    end = utc.replace(hour=utc.hour + 1, minute=15)  # 45 + 30 minutes
    assert got["dates"] == f"{utc:%Y%m%dT%H%M%SZ}/{end:%Y%m%dT%H%M%SZ}"
    assert got["location"] == "Harbourside Skin Clinic, 1 Quay Street, Bristol, BS1 4XX"
    assert session.practitioner.display_name in got["details"]


@pytest.mark.parametrize(("start", "utc"), AROUND_CHANGES)
def test_outlook_link_has_the_sessions_event_in_utc(clinic, start, utc):
    session = session_at(start)
    url = outlook_calendar_url(session, clinic)
    assert url.startswith("https://outlook.live.com/calendar/0/action/compose?")
    got = query(url)
    assert got["rru"] == "addevent"
    assert got["subject"] == "Microneedling: session 2 of 3 at Harbourside Skin Clinic"
    end = utc.replace(hour=utc.hour + 1, minute=15)
    assert (got["startdt"], got["enddt"]) == (
        utc.strftime("%Y-%m-%dT%H:%M:%SZ"),
        end.strftime("%Y-%m-%dT%H:%M:%SZ"),
    )
    assert got["location"] == "Harbourside Skin Clinic, 1 Quay Street, Bristol, BS1 4XX"
    assert "0117 496 0000" in got["body"]


def test_links_and_calendar_file_say_the_same_and_nothing_about_the_patient(clinic):
    session = session_at(at(4, 1, 10, year=2027))
    event = Calendar.from_ical(sessions_ics([session], clinic=clinic)).walk("VEVENT")[0]
    google = query(google_calendar_url(session, clinic))
    outlook = query(outlook_calendar_url(session, clinic))
    assert google["text"] == outlook["subject"] == str(event["SUMMARY"])
    assert google["location"] == outlook["location"] == str(event["LOCATION"])
    assert google["details"] == outlook["body"] == str(event["DESCRIPTION"])
    for url in (google_calendar_url(session, clinic), outlook_calendar_url(session, clinic)):
        assert "+" not in urlsplit(url).query  # spaces as %20: Outlook shows a "+" as it is
        for personal in ("Orla", "O'Brien", "O%27Brien", session.patient.user.email):
            assert personal not in url
