"""'Finding us': the clinic's address, travel notes and a link to OpenStreetMap."""

from decimal import Decimal
from urllib.parse import parse_qs, urlsplit

import pytest
import time_machine
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import escape

from booking.models import Reminder
from booking.reminder_emails import build_message
from clinic import caching
from clinic.models import ClinicDetails
from tests.booking.conftest import NOW
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book, clinic_details

pytestmark = pytest.mark.django_db

NOTES = "Buses 344 & 381 stop on Southwark Street.\n\n  Use the <blue> door.  "
PIN = "https://www.openstreetmap.org/?mlat=51.5068&mlon=-0.0965#map=18/51.5068/-0.0965"


@pytest.fixture
def clinic():
    return clinic_details(
        name="Riverside Skin Clinic",
        address="12 Riverside Walk\nLondon\nSE1 9XX",
        travel_notes=NOTES,
        latitude=Decimal("51.5068"),
        longitude=Decimal("-0.0965"),
    )


def details(**fields) -> ClinicDetails:
    return ClinicDetails(
        **{
            "name": "Riverside Skin Clinic",
            "address": "12 Riverside Walk\nLondon\nSE1 9XX",
            "phone": "020 7946 0123",
            "email": "hello@riverside.example",
            "opening_hours": "Monday to Friday: 9am to 6pm",
            **fields,
        }
    )


# --- The map link and what staff may enter ---------------------------------------------------


def test_with_coordinates_the_map_puts_a_pin_on_the_door(clinic):
    assert clinic.map_url == PIN
    assert ClinicDetails.current().map_url == PIN  # read back as 51.506800
    assert details(latitude=Decimal("-33.9"), longitude=Decimal(18)).map_url == (
        "https://www.openstreetmap.org/?mlat=-33.9&mlon=18#map=18/-33.9/18"
    )


def test_without_coordinates_the_map_searches_for_the_address():
    url = urlsplit(details().map_url)
    assert (url.scheme, url.netloc, url.path) == ("https", "www.openstreetmap.org", "/search")
    assert parse_qs(url.query) == {"query": ["12 Riverside Walk, London, SE1 9XX"]}


@pytest.mark.parametrize(
    ("latitude", "longitude"),
    [("51.5068", None), (None, "-0.0965")],
    ids=["no longitude", "no latitude"],
)
def test_coordinates_come_in_pairs(latitude, longitude):
    with pytest.raises(ValidationError, match="Give both the latitude and the longitude"):
        details(
            latitude=latitude and Decimal(latitude), longitude=longitude and Decimal(longitude)
        ).full_clean()


@pytest.mark.parametrize(
    ("latitude", "longitude", "wrong"),
    [("90.000001", "0", "latitude"), ("-90.5", "0", "latitude"), ("0", "180.000001", "longitude"),
     ("0", "-181", "longitude")],
)  # fmt: skip
def test_coordinates_must_be_on_the_globe(latitude, longitude, wrong):
    with pytest.raises(ValidationError) as raised:
        details(latitude=Decimal(latitude), longitude=Decimal(longitude)).full_clean()
    assert set(raised.value.message_dict) == {wrong}


def test_the_ends_of_the_globe_and_no_coordinates_are_fine():
    details(latitude=Decimal(90), longitude=Decimal(-180)).full_clean()
    details(latitude=Decimal(-90), longitude=Decimal(180)).full_clean()
    details().full_clean()


def test_a_copy_kept_before_the_directions_were_added_is_not_read_back(clinic):
    """The key the clinic's details were kept under before this change (no fields in it)."""
    old = ClinicDetails.unsaved_default()
    for field in ("travel_notes", "latitude", "longitude"):
        del old.__dict__[field]
    version = caching.current_version(caching.settings_row(ClinicDetails).version)
    cache.set("kept:settings:clinic.clinicdetails:1", (version, old), 60)
    assert ClinicDetails.current().travel_notes == NOTES


def test_staff_edit_the_directions_in_the_admin_and_pages_show_them_at_once(
    admin_client, clinic, client
):
    url = reverse("admin:clinic_clinicdetails_change", args=[clinic.pk])
    form = admin_client.get(url).content.decode()
    for field in ("travel_notes", "latitude", "longitude"):
        assert f'name="{field}"' in form
    ClinicDetails.current()  # kept in the cache
    fields = {
        "name": clinic.name,
        "address": clinic.address,
        "phone": clinic.phone,
        "email": clinic.email,
        "opening_hours": clinic.opening_hours,
        "travel_notes": "Ring the bell marked Riverside.",
    }
    refused = admin_client.post(url, {**fields, "latitude": "51.5"})
    assert "Give both the latitude and the longitude" in refused.content.decode()
    admin_client.post(url, {**fields, "latitude": "", "longitude": ""})
    saved = ClinicDetails.current()
    assert (saved.travel_notes, saved.latitude) == ("Ring the bell marked Riverside.", None)


# --- On the pages and in the emails ----------------------------------------------------------


@pytest.fixture
def course(clinic):
    with time_machine.travel(NOW, tick=False):
        treatment = TreatmentFactory()
        practitioner = PractitionerFactory(treatments=[treatment])
        yield book(PatientFactory(), treatment, practitioner, [at(6, 10, 10), at(7, 8, 10)])


def assert_directions_in_html(html: str) -> None:
    assert "Finding us" in html
    assert "<li>Buses 344 &amp; 381 stop on Southwark Street.</li>" in html
    assert "<li>Use the &lt;blue&gt; door.</li>" in html  # escaped, one line a row
    assert "<blue>" not in html
    assert f'<a href="{escape(PIN)}" rel="noopener noreferrer"' in html


@pytest.mark.parametrize("page", ["booking:appointments", "booking:done"])
def test_the_pages_after_booking_say_how_to_find_the_clinic(client, course, page):
    client.force_login(course.patient.user)
    args = [course.pk] if page == "booking:done" else []
    html = client.get(reverse(page, args=args)).content.decode()
    assert_directions_in_html(html)
    assert html.count('id="finding-us"') == 1


def test_my_appointments_shows_the_directions_after_the_courses_and_before_email_choices(
    client, course
):
    client.force_login(course.patient.user)
    html = client.get(reverse("booking:appointments")).content.decode()
    assert html.index("Session 2 of 2") < html.index("Finding us") < html.index("Email choices")


@pytest.mark.parametrize("kind", [Reminder.Kind.CONFIRMATION, Reminder.Kind.REMINDER])
def test_the_emails_before_a_visit_say_how_to_find_the_clinic(course, kind):
    message = build_message(course.sessions.get(number=1).reminders.get(kind=kind))
    assert_directions_in_html(message.alternatives[0][0])
    text = message.body
    assert "Finding us:" in text
    assert "- Buses 344 & 381 stop on Southwark Street.\n- Use the <blue> door.\n" in text
    assert f"Open the map on OpenStreetMap: {PIN}\n" in text
