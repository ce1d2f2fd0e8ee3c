"""Booking a cancelled session again: the rule, the service, the page, My appointments' button
and the email that links to it."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from booking import rulebook
from booking.availability import Slot
from booking.journey import slot_value
from booking.models import Course, Reminder, Session
from booking.services import (
    BookingError,
    SlotTaken,
    course_cancel,
    course_extend,
    extension_proposals,
    session_cancel,
    session_rebook,
)
from tests.booking.conftest import LONDON
from tests.booking.factories import PatientFactory, SessionFactory
from tests.helpers import at, book
from tests.worker import send_all_due

pytestmark = pytest.mark.django_db


def cancelled(course, number=3, **kwargs):
    session = course.sessions.get(number=number, status=Session.Status.BOOKED)
    return session_cancel(session=session, **kwargs)


def slot_at(start, practitioner, treatment):
    return Slot(start, start + timedelta(minutes=treatment.appointment_minutes), practitioner.pk)


def active_numbers(course):
    return sorted(course.sessions.active().values_list("number", flat=True))


# --- the rule --------------------------------------------------------------------------


def test_the_rule_offers_the_first_cancelled_number_after_the_last_active_session():
    def breach(number, status, sessions, most=6):
        found = rulebook.rebook_breach(number, status, sessions, most, "Microneedling")
        return found and found.message

    three = [(1, "attended"), (2, "cancelled"), (3, "cancelled")]
    assert breach(2, "cancelled", three) is None
    assert breach(3, "cancelled", three) == "Please book session 2 again first."
    assert breach(2, "booked", three) == "Only a cancelled session can be booked again."
    later = [(1, "booked"), (2, "cancelled"), (3, "booked")]
    assert breach(2, "cancelled", later) == (
        "Session 2 cannot be booked again because session 3 comes after it."
    )
    taken = [(1, "booked"), (2, "cancelled"), (2, "booked")]
    assert breach(2, "cancelled", taken) == "Session 2 is already booked."
    none_left = [(1, "cancelled"), (2, "cancelled")]
    assert "no sessions left" in breach(2, "cancelled", none_left)
    assert (
        breach(2, "cancelled", three, most=1) == "A course of Microneedling has at most 1 session."
    )


# --- the service -----------------------------------------------------------------------


def test_a_cancelled_last_session_is_booked_again_with_its_number_and_confirmed(
    course, practitioner
):
    third = cancelled(course)
    (slot, *_rest) = extension_proposals(course=course, now=at(6, 1, 8))
    again = session_rebook(session=third, slot=slot)
    course.refresh_from_db()
    assert (again.number, again.status, again.start) == (3, Session.Status.BOOKED, slot.start)
    assert active_numbers(course) == [1, 2, 3]
    assert (course.sessions_planned, course.status) == (3, Course.Status.ACTIVE)
    assert (
        rulebook.course_breaches(
            [(s.number, s.start) for s in course.sessions.active()],
            rulebook.spacing_of(course.treatment),
            LONDON,
        )
        == []
    )
    assert again.history.count() == 1  # kept in the audit history like every other session
    mail.outbox.clear()
    send_all_due()
    confirmation = next(m for m in mail.outbox if "is confirmed" in m.subject)
    assert confirmation.to == [course.patient.user.email]
    assert any(m.subject.startswith("New booking for") for m in mail.outbox)  # the clinic
    # The email that said it could be booked again now has nothing to say.
    next_window = third.reminders.get(kind=Reminder.Kind.NEXT_WINDOW)
    send_all_due(now=next_window.due_at)
    next_window.refresh_from_db()
    assert next_window.reason == "The session was booked again."


def test_a_finished_course_with_the_rest_cancelled_is_active_again(course, practitioner):
    with time_machine.travel(at(6, 11, 8), tick=False):  # session 1 is over
        course_cancel(course=course)
        course.refresh_from_db()
        assert course.status == Course.Status.COMPLETED
        second = course.sessions.get(number=2)
        (slot, *_rest) = extension_proposals(course=course, now=at(6, 11, 8))
        session_rebook(session=second, slot=slot)
    course.refresh_from_db()
    assert course.status == Course.Status.ACTIVE and active_numbers(course) == [1, 2]


def test_cancelled_sessions_are_booked_again_in_order(course):
    second = cancelled(course, 2, with_later=True)
    third = course.sessions.get(number=3)
    proposals = extension_proposals(course=course, now=at(6, 1, 8))
    with pytest.raises(BookingError, match="Please book session 2 again first."):
        session_rebook(session=third, slot=proposals[0])
    session_rebook(session=second, slot=proposals[0])
    session_rebook(session=third, slot=extension_proposals(course=course, now=at(6, 1, 8))[0])
    assert active_numbers(course) == [1, 2, 3]


def refused(match, **kwargs):
    before = list(Session.objects.order_by("pk").values_list())
    with pytest.raises(BookingError, match=match):
        session_rebook(**kwargs)
    assert list(Session.objects.order_by("pk").values_list()) == before


def test_a_session_that_is_not_cancelled_is_refused(course):
    second = course.sessions.get(number=2)
    slot = extension_proposals(course=course, now=at(6, 1, 8))[0]
    refused("Only a cancelled session can be booked again.", session=second, slot=slot)


def test_a_session_with_a_later_active_one_is_refused(course):
    third = cancelled(course)
    course_extend(course=course, slot=extension_proposals(course=course, now=at(6, 1, 8))[0])
    slot = extension_proposals(course=course, now=at(6, 1, 8))[0]
    refused("because session 4 comes after it", session=third, slot=slot)


def test_a_number_booked_again_already_is_refused(course):
    third = cancelled(course)
    session_rebook(session=third, slot=extension_proposals(course=course, now=at(6, 1, 8))[0])
    slot = Slot(at(8, 19, 14), at(8, 19, 15, 15), third.practitioner_id)
    refused("Session 3 is already booked.", session=third, slot=slot)


def test_a_course_at_the_treatments_most_sessions_is_refused(course, treatment):
    third = cancelled(course)
    slot = extension_proposals(course=course, now=at(6, 1, 8))[0]
    treatment.sessions_usual = treatment.sessions_max = 2  # the clinic changed it since
    treatment.save()
    refused("has at most 2 sessions", session=third, slot=slot)


def test_a_time_inside_the_minimum_notice_is_refused(course, practitioner, treatment):
    third = cancelled(course)
    with time_machine.travel(at(8, 5, 8), tick=False):
        refused(
            "at least 24 hours from now",
            session=third,
            slot=slot_at(at(8, 5, 14), practitioner, treatment),
        )


def test_a_time_outside_its_window_is_refused(course, practitioner, treatment):
    third = cancelled(course)
    refused(
        "Session 3 must be between 5 August and 19 August 2026",
        session=third,
        slot=slot_at(at(8, 26, 10), practitioner, treatment),
    )


def test_another_open_course_of_the_treatment_is_refused(now, patient, treatment, practitioner):
    """Session 1 has passed, session 2 is cancelled: the patient booked a new course since.
    Booking session 2 again would give them two open courses, too close together."""
    older = book(patient, treatment, practitioner, [at(5, 11), at(6, 15)], now=at(5, 1, 8))
    second = cancelled(older, 2)
    book(patient, treatment, practitioner, [at(6, 10)])
    slot = extension_proposals(course=older, now=now)[0]
    refused("You have another microneedling course with sessions booked", session=second, slot=slot)


@pytest.mark.postgres
def test_a_time_taken_after_the_check_comes_back_as_slot_taken(course, monkeypatch):
    """Another booking commits between the re-check and the write: the database refuses it."""
    from booking.services import extend

    third = cancelled(course)
    slot = extension_proposals(course=course, now=at(6, 1, 8))[0]

    def checked_then_taken(**kwargs):
        SessionFactory(
            course__practitioner=third.practitioner,
            course__treatment=course.treatment,
            start=slot.start,
            end=slot.end,
        )

    monkeypatch.setattr(extend, "slots_free", checked_then_taken)
    with pytest.raises(SlotTaken):
        session_rebook(session=third, slot=slot)
    assert active_numbers(course) == [1, 2]


# --- the page --------------------------------------------------------------------------


def url(session):
    return reverse("booking:session_rebook", args=[session.pk])


@pytest.mark.parametrize("method", ["get", "post"])
def test_another_patients_session_is_404(client, course, method):
    third = cancelled(course)
    client.force_login(PatientFactory().user)
    assert getattr(client, method)(url(third)).status_code == 404
    assert active_numbers(course) == [1, 2]


def test_the_page_lists_free_times_after_the_last_session(signed_in, course):
    third = cancelled(course)
    html = signed_in.get(url(third)).content.decode()
    assert "Book session 3 again" in html
    assert "It was on Wednesday 5 August 2026, 10:00 to 11:15." in html
    assert "Wednesday 5 August 2026, 10:00 to 11:15 with" in html  # free again: offered
    values = re.findall(r'name="slot" id="time-\d+" value="([^"]+)"', html)
    assert values and all(v.startswith("2026-08-") for v in values)
    assert "Book this session" in html


def test_booking_from_the_page_books_it_and_emails_the_patient(signed_in, course, practitioner):
    third = cancelled(course)
    send_all_due()  # the first booking's emails
    mail.outbox.clear()
    slot = slot_at(at(8, 5), practitioner, course.treatment)
    response = signed_in.post(url(third), {"slot": slot_value(slot)}, follow=True)
    assert response.redirect_chain[-1][0] == reverse("booking:appointments")
    assert "Session 3 is booked again. We have emailed you." in response.content.decode()
    assert course.sessions.active().get(number=3).start == at(8, 5)
    send_all_due()
    (confirmation,) = [m for m in mail.outbox if "is confirmed" in m.subject]
    assert confirmation.to == [course.patient.user.email]
    assert "Wednesday 5 August" in confirmation.body


@pytest.mark.parametrize("value", ["nonsense", "", "2026-08-26T10:00:00+01:00|{p}"])
def test_a_bad_or_refused_time_returns_to_the_page_with_the_reason(
    signed_in, course, practitioner, value
):
    third = cancelled(course)
    response = signed_in.post(url(third), {"slot": value.format(p=practitioner.pk)}, follow=True)
    assert response.redirect_chain[-1][0] == url(third)
    html = response.content.decode()
    assert "Please choose one of the times shown." in html or "must be between" in html
    assert active_numbers(course) == [1, 2]


def test_a_session_that_cannot_be_booked_again_goes_back_to_my_appointments(signed_in, course):
    second = course.sessions.get(number=2)
    response = signed_in.get(url(second), follow=True)
    assert response.redirect_chain[-1][0] == reverse("booking:appointments")
    assert "Only a cancelled session can be booked again." in response.content.decode()


def test_the_next_window_email_links_to_the_page_for_that_session(signed_in, course):
    third = cancelled(course)
    next_window = third.reminders.get(kind=Reminder.Kind.NEXT_WINDOW)
    send_all_due(now=next_window.due_at)
    email = next(m for m in mail.outbox if "book your next" in m.subject)
    link = f"/appointments/sessions/{third.pk}/again/"
    assert link in email.body and link in email.alternatives[0][0]
    assert "/book/" not in email.body
    assert signed_in.get(link).status_code == 200


# --- My appointments -------------------------------------------------------------------


def offered(client) -> list[str]:
    """The "Book session N again" links on My appointments."""
    html = client.get(reverse("booking:appointments")).content.decode()
    return re.findall(r'href="(/appointments/sessions/\d+/again/)"', html)


def test_my_appointments_offers_only_the_session_that_can_be_booked_again(signed_in, course):
    assert offered(signed_in) == []
    second = cancelled(course, 2, with_later=True)
    assert offered(signed_in) == [url(second)]  # not session 3: session 2 comes first
    html = signed_in.get(reverse("booking:appointments")).content.decode()
    assert "Book session 2 again" in html
    session_rebook(session=second, slot=extension_proposals(course=course, now=at(6, 1, 8))[0])
    third = course.sessions.get(number=3)
    assert offered(signed_in) == [url(third)]
    session_rebook(session=third, slot=extension_proposals(course=course, now=at(6, 1, 8))[0])
    assert offered(signed_in) == []


def test_no_offer_when_a_later_session_stays_or_the_course_is_cancelled(signed_in, course):
    cancelled(course)
    course_extend(course=course, slot=extension_proposals(course=course, now=at(6, 1, 8))[0])
    assert offered(signed_in) == []  # session 4 comes after session 3
    course_cancel(course=course)  # every session to come: no active one is left
    assert offered(signed_in) == []
