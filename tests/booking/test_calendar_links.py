"""'Add to Google Calendar' and 'Add to Outlook': the session's event, in UTC, nothing personal."""

import re
from datetime import UTC, datetime
from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from icalendar import Calendar

from booking import services
from booking.calendar_files import google_calendar_url, outlook_calendar_url, sessions_ics
from booking.models import Reminder
from booking.reminder_emails import build_message
from clinic.models import ClinicDetails
from tests.booking.factories import CourseFactory, PatientFactory, SessionFactory
from tests.helpers import at, clinic_details

pytestmark = pytest.mark.django_db
Kind = Reminder.Kind
CALENDAR_URLS = (google_calendar_url, outlook_calendar_url)


@pytest.fixture
def clinic():
    return clinic_details(name="Harbourside Skin Clinic", address="1 Quay Street\nBristol\nBS1 4XX")


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
    assert got["text"] == "Session 2 of 3 at Harbourside Skin Clinic"  # no treatment: see below
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
    assert got["subject"] == "Session 2 of 3 at Harbourside Skin Clinic"
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
    # The file names the treatment; a link, whose query reaches another company, does not.
    assert google["text"] == outlook["subject"] == "Session 2 of 3 at Harbourside Skin Clinic"
    treatment = session.course.treatment.name
    assert str(event["SUMMARY"]) == f"{treatment}: session 2 of 3 at Harbourside Skin Clinic"
    for url in (google_calendar_url(session, clinic), outlook_calendar_url(session, clinic)):
        assert treatment.lower() not in url.lower()
    assert google["location"] == outlook["location"] == str(event["LOCATION"])
    assert google["details"] == outlook["body"] == str(event["DESCRIPTION"])
    for url in (google_calendar_url(session, clinic), outlook_calendar_url(session, clinic)):
        assert "+" not in urlsplit(url).query  # spaces as %20: Outlook shows a "+" as it is
        for personal in ("Orla", "O'Brien", "O%27Brien", session.patient.user.email):
            assert personal not in url


# --- On the pages ----------------------------------------------------------------------------


def external_link(host: str) -> re.Pattern:
    return re.compile(rf'<a [^>]*href="https://{re.escape(host)}/[^"]*" rel="noopener noreferrer"')


GOOGLE_LINK, OUTLOOK_LINK = external_link("calendar.google.com"), external_link("outlook.live.com")


def link_names(html: str) -> list[str]:
    """Each link's name as a screen reader says it: its text, hidden words and all."""
    return [
        " ".join(re.sub(r"<[^>]+>", "", text).split())
        for text in re.findall(r"<a [^>]*>(.*?)</a>", html, flags=re.S)
    ]


def test_my_appointments_offers_each_active_session_to_three_calendars(signed_in, course):
    services.session_cancel(session=course.sessions.get(number=3), with_later=True)
    html = signed_in.get(reverse("booking:appointments")).content.decode()
    assert len(GOOGLE_LINK.findall(html)) == len(OUTLOOK_LINK.findall(html)) == 2
    names = link_names(html)
    for number in (1, 2):
        assert f"Calendar file for session {number} (.ics)" in names
        assert f"Add session {number} to Google Calendar" in names
        assert f"Add session {number} to Outlook" in names
    assert "Add session 3 to Google Calendar" not in names  # cancelled
    assert "Calendar file for the whole course (.ics)" in names
    assert "&amp;dates=20260610T090000Z/20260610T101500Z&amp;" in html  # 10:00 BST, escaped


def test_the_done_page_offers_each_session_to_google_and_outlook(signed_in, course):
    html = signed_in.get(reverse("booking:done", args=[course.pk])).content.decode()
    names = link_names(html)
    for number in (1, 2, 3):
        assert f"Add session {number} to Google Calendar" in names
        assert f"Add session {number} to Outlook" in names
    assert "Add all sessions to your calendar (.ics)" in names
    assert not [name for name in names if name.startswith("Calendar file for session")]


def test_the_links_cost_the_pages_no_query_per_session(
    signed_in, course, django_assert_max_num_queries
):
    def queries(url: str) -> int:
        with django_assert_max_num_queries(100) as counted:
            signed_in.get(url)
        return len(counted)

    pages = [reverse("booking:appointments"), reverse("booking:done", args=[course.pk])]
    for url in pages:  # the clinic's details and the rules, kept from here on
        signed_in.get(url)
    before = [queries(url) for url in pages]
    SessionFactory(course=course, start=at(9, 16, 10))
    assert [queries(url) for url in pages] == before


# --- In the emails ---------------------------------------------------------------------------


def email_of(course, kind: str, number: int = 1):
    session = course.sessions.get(number=number)
    reminder = Reminder.objects.filter(session=session, kind=kind).first()
    reminder = reminder or Reminder.objects.create(
        session=session, kind=kind, due_at=timezone.now()
    )
    message = build_message(reminder)
    return message.body, message.alternatives[0][0]


@pytest.mark.parametrize(
    ("kind", "numbers"),
    [(Kind.CONFIRMATION, [1, 2, 3]), (Kind.CHANGED, [1, 2, 3]), (Kind.REMINDER, [2])],
)
def test_emails_that_add_sessions_link_each_to_google_and_outlook(course, kind, numbers):
    text, html = email_of(course, kind, number=2)
    for number in numbers:
        session = course.sessions.get(number=number)
        google, outlook = (url(session, ClinicDetails.current()) for url in CALENDAR_URLS)
        assert f"Add session {number} to Google Calendar: {google}\n" in text
        assert f"Add session {number} to Outlook: {outlook}\n" in text
        assert f'<a href="{escape(google)}" rel="noopener noreferrer"' in html
        assert f'<a href="{escape(outlook)}" rel="noopener noreferrer"' in html
    assert len(GOOGLE_LINK.findall(html)) == len(numbers)
    assert text.count("https://calendar.google.com/") == len(numbers)


@pytest.mark.parametrize("kind", [Kind.CANCELLED, Kind.CLINIC_NOTICE, Kind.AFTERCARE])
def test_emails_that_add_nothing_to_a_calendar_have_no_calendar_links(course, kind):
    if kind == Kind.CANCELLED:
        services.session_cancel(session=course.sessions.get(number=3), with_later=True)
    for part in email_of(course, kind, number=3 if kind == Kind.CANCELLED else 1):
        assert "calendar.google.com" not in part and "outlook.live.com" not in part
