""" "Arrived": the waiting room, between booked and attended (booking/attendance.py).

Reception marks it from the schedule's day view or the session's page, on the
session's day only; an arrived patient is then marked attended (never a
no-show); an arrival marked by mistake is taken back. An arrived session is
happening: it cannot be moved or cancelled, time off cannot be laid over it,
and its reminders go as a booked session's do.
"""

from datetime import timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from booking import attendance, services
from booking.models import Reminder, Session
from booking.services import BookingError
from booking.time_off import time_off_collisions
from tests.helpers import at, book
from tests.staff.admin_messages import said
from tests.worker import send_all_due

pytestmark = pytest.mark.django_db
ON_THE_DAY = at(6, 2, 9, 50)  # ten minutes before the session


def url(name, session):
    return reverse(f"admin:booking_session_{name}", args=[session.pk])


@pytest.fixture
def session(now, treatment, practitioner, patient):
    """Tuesday 2 June 10:00 to 11:15."""
    return book(patient, treatment, practitioner, [at(6, 2, 10)], now=now).sessions.get()


def test_reception_marks_arrived_from_the_day_view_and_comes_back_to_it(
    session, reception, client_for
):
    client = client_for(reception)
    day = reverse("admin:booking_schedule_day") + "?date=2026-06-02"
    with time_machine.travel(ON_THE_DAY, tick=False):
        page = client.get(day).content.decode()
        assert url("arrived", session) in page
        response = client.post(url("arrived", session), {"next": day})
        assert response.status_code == 302 and response["Location"] == day
        assert any("the patient has arrived" in m for m in said(response))
        again = client.get(day).content.decode()
    session.refresh_from_db()
    assert session.status == Session.Status.ARRIVED
    assert session.history.first().history_user == reception
    assert 'aria-hidden="true">➜</span> Arrived' in again
    assert url("attended", session) in again  # the next step, from the same place


def test_a_next_address_elsewhere_is_not_followed(session, reception, client_for):
    with time_machine.travel(ON_THE_DAY, tick=False):
        response = client_for(reception).post(
            url("arrived", session), {"next": "https://evil.example/"}
        )
    assert response["Location"] == url("change", session)


def test_arrived_only_on_the_day_then_attended_never_a_no_show(session, reception):
    with pytest.raises(BookingError, match="only on the day"):
        attendance.session_mark_arrived(session=session, by=reception, now=at(6, 1, 17))
    attendance.session_mark_arrived(session=session, by=reception, now=ON_THE_DAY)
    with pytest.raises(BookingError, match="not a no-show"):
        attendance.session_mark_no_show(session=session, by=reception, now=at(6, 2, 11, 30))
    with pytest.raises(BookingError, match="Only a booked session"):
        attendance.session_mark_arrived(session=session, by=reception, now=ON_THE_DAY)
    attendance.session_mark_attended(session=session, by=reception, now=at(6, 2, 11, 20))
    session.refresh_from_db()
    assert session.status == Session.Status.ATTENDED
    reasons = [h.history_change_reason for h in session.history.order_by("history_date")]
    assert reasons[-2:] == ["Marked arrived", "Marked attended"]


def test_an_arrival_marked_by_mistake_is_taken_back(session, reception, client_for):
    client = client_for(reception)
    with time_machine.travel(ON_THE_DAY, tick=False):
        client.post(url("arrived", session))
        page = client.get(url("change", session)).content.decode()
        assert "Not arrived after all" in page and "Mark as a no-show" not in page
        response = client.post(url("not_arrived", session))
    assert any("is booked again" in m for m in said(response))
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED
    with pytest.raises(BookingError, match="Only a session marked arrived"):
        attendance.session_mark_not_arrived(session=session, by=reception, now=ON_THE_DAY)


def test_the_list_marks_several_arrived(
    now, treatment, practitioner, patient, reception, client_for
):
    from tests.booking.factories import PatientFactory

    first = book(patient, treatment, practitioner, [at(6, 2, 10)], now=now).sessions.get()
    second = book(PatientFactory(), treatment, practitioner, [at(6, 2, 14)], now=now)
    second = second.sessions.get()
    with time_machine.travel(ON_THE_DAY, tick=False):
        response = client_for(reception).post(
            reverse("admin:booking_session_changelist"),
            {"action": "mark_arrived", "_selected_action": [first.pk, second.pk], "index": 0},
        )
    assert any("2 sessions are marked arrived" in m for m in said(response))
    assert set(Session.objects.values_list("status", flat=True)) == {Session.Status.ARRIVED}


def test_a_clinician_without_the_session_cannot_mark_it(session, clinician, client_for):
    with time_machine.travel(ON_THE_DAY, tick=False):
        response = client_for(clinician).post(url("arrived", session))
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED
    assert response.status_code in (302, 404)  # not theirs: as a missing row


def test_an_arrived_session_is_happening_it_is_not_moved_or_cancelled(
    session, reception, practitioner
):
    attendance.session_mark_arrived(session=session, by=reception, now=ON_THE_DAY)
    session.refresh_from_db()
    for change in (
        lambda: services.session_cancel(session=session, now=ON_THE_DAY, by_staff=True),
        lambda: services.session_move(
            session=session,
            new_start=session.start + timedelta(hours=3),
            now=ON_THE_DAY,
            by_staff=True,
        ),
    ):
        with pytest.raises(BookingError, match="Only a booked session can be changed"):
            change()
    assert time_off_collisions(practitioner=practitioner, start=session.start, end=session.end) == [
        session
    ]


def test_an_arrived_sessions_emails_go_as_a_booked_ones_do(session, reception):
    attendance.session_mark_arrived(session=session, by=reception, now=ON_THE_DAY)
    open_rows = Reminder.objects.filter(session=session).open()
    assert open_rows.exists()  # nothing stopped by arriving
    mail.outbox.clear()
    send_all_due(now=at(6, 2, 14))
    assert [m for m in mail.outbox if "Looking after your skin" in m.subject]
