"""The patient's booking journey on /book/, step by step, without a browser."""

import re
from datetime import datetime

import pytest
from django.core import mail
from django.urls import reverse
from django.utils.html import escape

from booking import rulebook
from booking.models import BookingRules, Course, Patient, Session
from clinic.models import ClinicDetails
from tests.booking.conftest import LONDON, email_code_sign_in
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.helpers import book
from tests.worker import send_all_due

pytestmark = pytest.mark.django_db
PASSWORD = "a-long-Patient-passphrase-42"


def answer_all(client, treatment, yes=()):
    data = {f"q{q.pk}": "yes" if q.text in yes else "no" for q in treatment.questions.all()}
    return client.post(reverse("booking:questions"), data)


def first_slot_value(client):
    html = client.get(reverse("booking:time") + "?day=2026-06-08").content.decode()
    return re.search(r'name="slot" value="([^"]+)"', html).group(1)


def walk_to_time(client, treatment, sessions=3):
    client.get(reverse("booking:start_with", args=[treatment.slug]))
    client.post(reverse("booking:length"), {"sessions": sessions})
    answer_all(client, treatment)
    client.post(reverse("booking:practitioner"), {"practitioner": "any"})


def walk_to_plan(client, treatment, sessions=3):
    walk_to_time(client, treatment, sessions)
    value = first_slot_value(client)
    client.post(reverse("booking:time"), {"slot": value})
    return value


def test_a_new_patient_books_a_course_from_start_to_finish(
    client, clinic_ready, django_capture_on_commit_callbacks
):
    treatment = clinic_ready
    first = walk_to_plan(client, treatment)
    plan = client.get(reverse("booking:plan")).content.decode()
    assert plan.count("Session ") >= 3 and "Change session 2" in plan
    signed_in = email_code_sign_in(client, "nia@example.org")
    assert signed_in.status_code == 302
    assert mail.outbox[0].to == ["nia@example.org"]  # the code, typed on the same page
    response = client.post(
        reverse("booking:account"),
        {"full_name": "Nia Newpatient", "phone": "07700 900555", "password": PASSWORD},
    )
    assert response.status_code == 302
    client.post(reverse("booking:consent"), {"agree": "on"})
    confirm = client.get(reverse("booking:confirm"))
    current = BookingRules.current()
    rules = rulebook.change_rules(
        current, phone=ClinicDetails.current().phone, course_of_sessions=True
    )
    # CHANGE's three sentences, then the cancellation policy's (here: nothing charged).
    assert len(rules) == 4 and f"up to {current.change_notice_hours} hours before" in rules[0]
    for sentence in rules:  # the clinic's move and cancel rules, before the patient commits
        assert escape(sentence) in confirm.content.decode()
    key = re.search(r'name="key" value="([^"]+)"', confirm.content.decode()).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(reverse("booking:confirm"), {"key": key})
    course = Course.objects.get()
    assert done.url == reverse("booking:done", args=[course.pk])
    assert course.patient.full_name == "Nia Newpatient"
    assert course.consent.version == 1 and course.consent_given_at
    assert [s.start for s in course.sessions.order_by("number")][0].isoformat() == first.split("|")[
        0
    ]
    assert course.sessions.count() == 3
    page = client.get(done.url).content.decode()
    assert "You are booked in" in page and "calendar" in page
    send_all_due()  # what the worker does within the minute
    clinic_mail = [m for m in mail.outbox if m.subject == "New booking for Nia"]
    assert len(clinic_mail) == 1
    confirmation = next(m for m in mail.outbox if "is confirmed" in m.subject)
    assert confirmation.to == ["nia@example.org"]
    assert confirmation.attachments[0][0] == "course.ics"
    html = confirmation.alternatives[0][0]
    for sentence in rules:  # and in the confirmation, both parts
        assert f"- {sentence}" in confirmation.body and escape(sentence) in html


def test_double_clicking_confirm_books_once(client, clinic_ready, patient):
    client.force_login(patient.user)
    walk_to_plan(client, clinic_ready)
    client.post(reverse("booking:consent"), {"agree": "on"})
    key = re.search(
        r'name="key" value="([^"]+)"', client.get(reverse("booking:confirm")).content.decode()
    ).group(1)
    first = client.post(reverse("booking:confirm"), {"key": key})
    second = client.post(reverse("booking:confirm"), {"key": key})
    assert first.url == second.url
    assert Course.objects.count() == 1 and Session.objects.count() == 3


def test_a_slot_taken_meanwhile_sends_the_patient_back_with_alternatives(
    client, clinic_ready, patient, practitioner
):
    client.force_login(patient.user)
    value = walk_to_plan(client, clinic_ready, sessions=1)
    client.post(reverse("booking:consent"), {"agree": "on"})
    key = re.search(
        r'name="key" value="([^"]+)"', client.get(reverse("booking:confirm")).content.decode()
    ).group(1)
    start = datetime.fromisoformat(value.split("|")[0])
    book(PatientFactory(), clinic_ready, practitioner, [start])
    response = client.post(reverse("booking:confirm"), {"key": key}, follow=True)
    html = response.content.decode()
    assert "That time has just been booked" in html
    assert "The nearest free times" in html
    assert Course.objects.filter(patient=patient).count() == 0


def test_state_survives_a_reload_and_steps_cannot_be_skipped(client, clinic_ready):
    assert client.get(reverse("booking:confirm")).url == reverse("booking:start")
    client.get(reverse("booking:start_with", args=[clinic_ready.slug]))
    assert client.get(reverse("booking:time")).url == reverse("booking:length")
    client.post(reverse("booking:length"), {"sessions": 3})
    page = client.get(reverse("booking:length")).content.decode()
    assert 'value="3"' in page and "checked" in page


def test_a_not_suitable_answer_explains_and_offers_no_booking(client, clinic_ready):
    client.get(reverse("booking:start_with", args=[clinic_ready.slug]))
    client.post(reverse("booking:length"), {"sessions": 3})
    html = answer_all(client, clinic_ready, yes=["Are you pregnant?"]).content.decode()
    assert "Not suitable for you right now" in html and "Wait until after pregnancy." in html
    assert client.get(reverse("booking:practitioner")).url == reverse("booking:questions")


def test_a_talk_first_answer_offers_a_consultation_with_the_answers_kept(
    client, clinic_ready, patient, django_capture_on_commit_callbacks
):
    client.force_login(patient.user)
    client.get(reverse("booking:start_with", args=[clinic_ready.slug]))
    client.post(reverse("booking:length"), {"sessions": 3})
    html = answer_all(client, clinic_ready, yes=["Do you form keloid scars?"]).content.decode()
    assert "Book a consultation instead" in html
    client.post(reverse("booking:consultation_instead"))
    client.post(reverse("booking:practitioner"), {"practitioner": "any"})
    client.post(reverse("booking:time"), {"slot": first_slot_value(client)})
    client.post(reverse("booking:consent"), {"agree": "on"})
    key = re.search(
        r'name="key" value="([^"]+)"', client.get(reverse("booking:confirm")).content.decode()
    ).group(1)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("booking:confirm"), {"key": key})
    send_all_due()
    course = Course.objects.get()
    assert course.treatment.is_consultation
    answers = {a["question"]: a["answer"] for a in course.suitability_answers["questions"]}
    assert answers["Do you form keloid scars?"] == "yes"
    # The clinic's inbox hears of it without the health answers: they stay in the admin.
    notice = next(m for m in mail.outbox if m.subject.startswith("New booking for"))
    for part in (notice.body, notice.alternatives[0][0]):
        assert "keloid" not in part and patient.user.email not in part
        assert patient.phone not in part and patient.full_name not in part
        assert f"/admin/booking/course/{course.pk}/change/" in part


@pytest.mark.parametrize(
    "value",
    [
        "",
        "garbage",
        "2026-06-10T10:00:00|x",
        "2026-06-10T10:00:00|1",
        "2026-06-10T07:00:00+01:00|1",
        "2030-01-01T10:00:00+00:00|1",
    ],
)
def test_tampered_slots_are_refused_and_nothing_changes(client, clinic_ready, value):
    client.get(reverse("booking:start_with", args=[clinic_ready.slug]))
    client.post(reverse("booking:length"), {"sessions": 3})
    answer_all(client, clinic_ready)
    client.post(reverse("booking:practitioner"), {"practitioner": "any"})
    response = client.post(reverse("booking:time"), {"slot": value}, follow=True)
    assert response.status_code == 200
    assert "That time is not free" in response.content.decode()
    assert client.get(reverse("booking:plan")).url == reverse("booking:time")


@pytest.mark.parametrize("data", [{"sessions": 9}, {"sessions": 0}, {"sessions": "x"}, {}])
def test_course_length_outside_the_range_is_explained(client, clinic_ready, data):
    client.get(reverse("booking:start_with", args=[clinic_ready.slug]))
    response = client.post(reverse("booking:length"), data)
    assert response.status_code == 400
    assert "Choose" in response.content.decode()


def test_a_practitioner_who_does_not_offer_it_cannot_be_chosen(client, clinic_ready):
    other = PractitionerFactory(treatments=[])
    client.get(reverse("booking:start_with", args=[clinic_ready.slug]))
    client.post(reverse("booking:length"), {"sessions": 3})
    answer_all(client, clinic_ready)
    response = client.post(reverse("booking:practitioner"), {"practitioner": str(other.pk)})
    assert response.status_code == 400


def test_journey_pages_are_never_cached(client, clinic_ready):
    client.get(reverse("booking:start_with", args=[clinic_ready.slug]))
    assert "no-store" in client.get(reverse("booking:length"))["Cache-Control"]


def test_no_health_data_in_urls(client, clinic_ready):
    client.get(reverse("booking:start_with", args=[clinic_ready.slug]))
    client.post(reverse("booking:length"), {"sessions": 3})
    response = answer_all(client, clinic_ready)
    assert "?" not in response.url
    assert Patient.objects.count() == 0


def test_the_picker_opens_on_the_first_bookable_day_with_times_by_part_of_the_day(
    client, clinic_ready, practitioner
):
    walk_to_time(client, clinic_ready)
    html = client.get(reverse("booking:time")).content.decode()
    # Monday 1 June, 08:00: 24 hours' notice makes Tuesday the first day with times.
    assert re.search(r'aria-current="date">\s*<span class="day-chip-weekday">Tue</span>', html)
    assert 'id="picker-day" tabindex="-1">Tuesday 2 June</h2>' in html
    name = practitioner.display_name
    # Each time is named by its date, start, end (75 minutes) and practitioner.
    assert f'aria-label="Tuesday 2 June 2026, 09:00 to 10:15 with {name}"' in html
    assert "Monday 1 June 2026" not in html  # before the notice ends
    # Six times to a part of the day, spread over it; the rest behind "more times".
    morning = html.split('id="part-morning"')[1].split("</section>")[0]
    shown, more = morning.split("<details")
    assert shown.count('name="slot"') == 6 and "11:45 to 13:00" in shown
    assert 'name="slot"' in more and "6 more morning times" in more
    assert 'id="part-afternoon"' in html and 'id="part-evening"' not in html


def test_choosing_a_day_in_the_strip_and_the_htmx_fragment(client, clinic_ready):
    walk_to_plan(client, clinic_ready)
    html = client.get(reverse("booking:time") + "?day=2026-06-09").content.decode()
    assert 'aria-label="Tuesday 9 June 2026, 09:00 to 10:15 with ' in html
    assert "Earlier days" in html  # strips run from Tuesday 2 June, the first day
    # Saturday and Sunday have no times: shown, not links.
    assert html.count('<span class="day-chip is-empty') == 2
    fragment = client.get(
        reverse("booking:time") + "?day=2026-06-10", HTTP_HX_REQUEST="true"
    ).content.decode()
    assert "<html" not in fragment and 'id="picker-status" hx-swap-oob' in fragment
    assert "autofocus" in fragment and "Wednesday 10 June 2026, 09:00 to 10:15" in fragment


def test_from_a_date_shows_the_first_day_with_times_on_or_after_it(client, clinic_ready):
    walk_to_time(client, clinic_ready)
    html = client.get(reverse("booking:time") + "?from=2026-06-13").content.decode()
    assert 'id="picker-day" tabindex="-1">Monday 15 June</h2>' in html  # past the weekend


def test_times_are_shown_in_the_clinic_zone(client, clinic_ready):
    walk_to_plan(client, clinic_ready)
    html = client.get(reverse("booking:time") + "?day=2026-06-08").content.decode()
    first = re.search(r'value="([^"|]+)\|', html).group(1)
    assert datetime.fromisoformat(first).astimezone(LONDON).hour == 9


@pytest.mark.parametrize("name", ["day", "from"])
@pytest.mark.parametrize("value", ["9999-12-31", "0001-01-01", "nonsense", "2026-02-30"])
def test_any_day_in_the_time_picker_gives_a_page(client, clinic_ready, name, value):
    walk_to_plan(client, clinic_ready)
    response = client.get(reverse("booking:time"), {name: value})
    assert response.status_code == 200 and b'name="slot"' in response.content
