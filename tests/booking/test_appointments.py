"""The patient's own appointments: see, move, cancel, calendar files, privacy."""

import re

import pytest
import time_machine
from django.urls import reverse
from icalendar import Calendar

from booking.models import Session
from booking.services import course_cancel
from tests.booking.conftest import LONDON, confirm_move, move_page
from tests.booking.factories import PatientFactory
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book

pytestmark = pytest.mark.django_db


def test_the_page_lists_each_session_in_clinic_time(signed_in, course):
    html = signed_in.get(reverse("booking:appointments")).content.decode()
    assert "Session 2 of 3" in html
    assert "Wednesday 8 July 2026, 10:00" in html
    assert "no-store" in signed_in.get(reverse("booking:appointments"))["Cache-Control"]


def test_courses_are_listed_by_their_next_session_then_the_finished_ones(
    signed_in, now, patient, practitioner, treatment
):
    """What comes next first, whenever the course began; then courses with nothing to come,
    the most recent last session first."""
    peel = TreatmentFactory(name="Peel", slug="peel", sessions_usual=1)
    check = TreatmentFactory(name="Skin check", slug="skin-check", sessions_usual=1)
    practitioner.treatments.add(peel, check)
    finished_long_ago = book(patient, check, practitioner, [at(4, 14, 10)], now=at(4, 1, 8))
    older = book(patient, treatment, practitioner, [at(5, 11), at(6, 15)], now=at(5, 1, 8))
    newer = book(patient, peel, practitioner, [at(6, 5, 10)])
    cancelled = book(patient, check, practitioner, [at(6, 25, 10)])
    course_cancel(course=cancelled)
    html = signed_in.get(reverse("booking:appointments")).content.decode()
    listed = sorted(
        [newer, older, cancelled, finished_long_ago],
        key=lambda c: html.index(f'aria-labelledby="course-{c.pk}"'),
    )
    # Next on 5 June, next on 15 June (began 11 May), last on 25 June (cancelled), 14 April.
    assert listed == [newer, older, cancelled, finished_long_ago]


def test_move_a_session_inside_its_window(signed_in, course, practitioner):
    second = course.sessions.get(number=2)
    page = signed_in.get(reverse("booking:session_move", args=[second.pk]), {"day": "2026-07-08"})
    html = page.content.decode()
    name = practitioner.display_name
    assert f'aria-label="Wednesday 8 July 2026, 11:30 to 12:45 with {name}"' in html
    # Its own time is marked, not offered.
    assert re.search(
        r'class="slot-button slot-current" aria-current="true">'
        r'<span class="slot-time">10:00 to 11:15</span>',
        html,
    )
    assert f'value="{at(7, 8, 10).isoformat()}|' not in html
    assert 'aria-label="Tuesday 7 July 2026' not in html  # before its window
    assert f'action="{reverse("booking:session_move_confirm", args=[second.pk])}"' in html
    confirm = move_page(signed_in, second, at(7, 8, 11, 30), practitioner).content.decode()
    second.refresh_from_db()
    assert second.start == at(7, 8, 10)  # nothing moves before "Confirm"
    assert "<td>10:00 to 11:15</td><td><strong>11:30 to 12:45</strong></td>" in confirm
    assert "They stay as they are." in confirm and "Confirm: move session 2" in confirm
    response = confirm_move(signed_in, second, at(7, 8, 11, 30), practitioner)
    second.refresh_from_db()
    assert second.start == at(7, 8, 11, 30)
    assert response.url == reverse("booking:appointments")


def test_the_move_picker_opens_on_the_first_free_day_of_the_window(signed_in, course, practitioner):
    second = course.sessions.get(number=2)
    html = signed_in.get(reverse("booking:session_move", args=[second.pk])).content.decode()
    # Session 1 is on Wednesday 10 June: session 2's window opens 28 days later.
    assert 'id="picker-day" tabindex="-1">Wednesday 8 July</h2>' in html
    # Its day is marked in the strip, and its own time is not counted as a free one.
    chip = re.search(r'<a class="day-chip is-selected"[^>]*>(.*?)</a>', html, re.S).group(1)
    words = re.sub(r"<[^>]+>", " ", chip).split()
    assert words[:3] == ["Wed", "8", "Jul"] and words[-2:] == ["times", "yours"]
    assert int(words[3]) == html.split('id="picker-day"')[1].count('name="slot"')


def test_a_move_that_squeezes_the_next_session_moves_nothing_until_the_patient_confirms(
    signed_in, course, practitioner
):
    second = course.sessions.get(number=2)
    page = move_page(signed_in, second, at(7, 21, 10), practitioner).content.decode()
    second.refresh_from_db()
    assert second.start == at(7, 8, 10)  # nothing changed yet
    assert "Session 3: from Wednesday 5 August 2026, 10:00 to 11:15" in page
    assert "Confirm: move session 2 and the session after it" in page
    confirm_move(signed_in, second, at(7, 21, 10), practitioner)
    second.refresh_from_db()
    third = course.sessions.get(number=3)
    assert second.start == at(7, 21, 10)
    assert third.start.astimezone(LONDON).date() >= at(8, 18, 0).date()


def test_a_confirm_page_left_open_while_times_change_moves_nothing(signed_in, course, practitioner):
    """The later sessions' new times are the ones shown, or nothing moves."""
    second = course.sessions.get(number=2)
    response = confirm_move(
        signed_in, second, at(7, 21, 10), practitioner, later_3=f"{at(8, 19, 15).isoformat()}|1"
    )
    assert response.status_code == 200
    assert "Free times changed while you were choosing" in response.content.decode()
    assert [s.start for s in course.sessions.order_by("number")] == [
        at(6, 10, 10),
        at(7, 8, 10),
        at(8, 5, 10),
    ]


def test_a_move_outside_the_window_is_explained(signed_in, course, practitioner):
    second = course.sessions.get(number=2)
    page = move_page(signed_in, second, at(6, 24, 10), practitioner).content.decode()
    assert "must be between" in page and "Confirm:" not in page
    response = signed_in.post(
        reverse("booking:session_move_confirm", args=[second.pk]),
        {"slot": f"{at(6, 24, 10).isoformat()}|{practitioner.pk}"},
    )
    assert "must be between" in response.content.decode()
    second.refresh_from_db()
    assert second.start == at(7, 8, 10)


def test_a_time_that_is_no_longer_free_has_no_confirm_button(signed_in, course, practitioner):
    second = course.sessions.get(number=2)
    book(PatientFactory(), course.treatment, practitioner, [at(7, 9, 10)])
    page = move_page(signed_in, second, at(7, 9, 10), practitioner).content.decode()
    assert "no longer free" in page and "Confirm:" not in page


@pytest.mark.parametrize(
    "slot", ["", "nonsense", "2026-07-08T10:00:00+01:00|99999", "2026-07-08T10:00:00|1"]
)
def test_a_bad_choice_on_the_confirm_page_goes_back_to_the_times(signed_in, course, slot):
    second = course.sessions.get(number=2)
    url = reverse("booking:session_move_confirm", args=[second.pk])
    response = signed_in.get(url, {"slot": slot})
    assert response.status_code in {302, 404}
    assert signed_in.post(url, {"slot": slot}).status_code in {302, 404}


def test_cancel_one_session_then_the_rest(signed_in, course):
    third = course.sessions.get(number=3)
    assert (
        "Yes, cancel this session"
        in signed_in.get(reverse("booking:session_cancel", args=[third.pk])).content.decode()
    )
    signed_in.post(reverse("booking:session_cancel", args=[third.pk]))
    third.refresh_from_db()
    assert third.status == Session.Status.CANCELLED
    signed_in.post(reverse("booking:course_cancel", args=[course.pk]))
    assert not course.sessions.active().exists()


def test_inside_the_notice_period_the_page_shows_the_phone_instead(client, course, patient):
    client.force_login(patient.user)
    with time_machine.travel(at(6, 9, 12), tick=False):
        html = client.get(reverse("booking:appointments")).content.decode()
        assert "call us on" in html
        first = course.sessions.get(number=1)
        assert f'href="/appointments/sessions/{first.pk}/cancel/"' not in html
        client.post(reverse("booking:session_cancel", args=[first.pk]))
    first.refresh_from_db()
    assert first.status == Session.Status.BOOKED


def test_calendar_files_have_one_event_per_session_with_stable_uids(signed_in, course):
    response = signed_in.get(reverse("booking:course_ics", args=[course.pk]))
    assert response["Content-Type"].startswith("text/calendar")
    events = Calendar.from_ical(response.content).walk("VEVENT")
    assert len(events) == 3
    uids = [str(e["UID"]) for e in events]
    assert len(set(uids)) == 3
    second = course.sessions.get(number=2)
    confirm_move(signed_in, second, at(7, 8, 11, 30), second.practitioner)
    moved = Calendar.from_ical(
        signed_in.get(reverse("booking:session_ics", args=[second.pk])).content
    ).walk("VEVENT")[0]
    assert str(moved["UID"]) in uids
    assert int(moved["SEQUENCE"]) == 1
    assert moved.decoded("DTSTART") == at(7, 8, 11, 30)


def test_email_preferences_are_saved(signed_in, patient, course):
    signed_in.post(reverse("booking:preferences"), {"email_next_window": "on"})
    patient.refresh_from_db()
    assert patient.email_check_in is False and patient.email_next_window is True


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_patients_course_and_sessions_are_404(client, course, method):
    intruder = PatientFactory()
    client.force_login(intruder.user)
    session = course.sessions.first()
    urls = [
        reverse(name, args=[session.pk])
        for name in (
            "booking:session_move",
            "booking:session_move_confirm",
            "booking:session_cancel",
            "booking:session_ics",
            "booking:session_rebook",
        )
    ]
    urls += [
        reverse(name, args=[course.pk])
        for name in (
            "booking:course_cancel",
            "booking:course_ics",
            "booking:replan",
            "booking:done",
        )
    ]
    for url in urls:
        response = getattr(client, method)(url)
        assert response.status_code in {404, 405}, url
        if response.status_code == 405:
            assert method == "post" and url.endswith((".ics", "/move/")) or "/done/" in url
    assert not Session.objects.filter(status=Session.Status.CANCELLED).exists()
    assert "Session 1 of 3" not in client.get(reverse("booking:appointments")).content.decode()


def test_signed_out_visitors_are_sent_to_sign_in(client, course):
    response = client.get(reverse("booking:appointments"))
    assert response.status_code == 302 and "/accounts/login/" in response.url
    assert not re.search(r"\d{4}-\d\d-\d\d", response.url)


@pytest.mark.parametrize("day", ["9999-12-31", "0001-01-01", "2026-13-40", "x" * 500, ""])
@pytest.mark.parametrize("name", ["day", "from"])
def test_any_day_in_the_address_gives_a_page_not_an_error(signed_in, course, day, name):
    second = course.sessions.get(number=2)
    response = signed_in.get(reverse("booking:session_move", args=[second.pk]), {name: day})
    assert response.status_code == 200 and b'name="slot"' in response.content
