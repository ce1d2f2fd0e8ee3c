"""Time off over booked sessions: refused as it stands, saved once each session is resolved."""

import pytest
from django.core import mail
from django.urls import reverse

from booking.models import Reminder, Session, TimeOff, WorkingHours
from booking.services import BookingError
from booking.time_off import CANCEL, handover_choices, time_off_add, time_off_collisions
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.helpers import at, book
from tests.staff.admin_messages import said
from tests.worker import send_all_due

Kind, Status = Reminder.Kind, Reminder.Status
DAY_OFF = {"start": "2026-06-02T09:00", "end": "2026-06-02T17:00", "reason": "Training"}


def time_off_page(practitioner):
    return reverse("admin:booking_practitioner_time_off", args=[practitioner.pk])


@pytest.fixture
def session(now, treatment, practitioner, patient):
    """Tuesday 2 June 10:00 to 11:15, with the practitioner."""
    return book(patient, treatment, practitioner, [at(6, 2, 10)], now=now).sessions.get()


@pytest.fixture
def other(treatment):
    return PractitionerFactory(treatments=[treatment], display_name="Dr Other")


@pytest.fixture
def desk(reception, client_for):
    """Reception, signed in."""
    return client_for(reception)


def test_time_off_over_a_booked_session_is_not_saved_and_lists_it(
    session, practitioner, other, desk
):
    response = desk.post(time_off_page(practitioner), DAY_OFF)
    assert response.status_code == 200
    page = response.content.decode()
    assert session.patient.full_name in page and "Tue 2 Jun 2026 10:00–11:15" in page
    assert "Microneedling" in page
    assert "Hand it to Dr Other" in page
    assert "Cancel it and tell the patient by email" in page
    assert not TimeOff.objects.exists()


def test_handing_the_session_to_a_free_practitioner_saves_the_time_off(
    session, practitioner, other, desk
):
    response = desk.post(
        time_off_page(practitioner),
        {**DAY_OFF, "resolving": "1", f"session_{session.pk}": str(other.pk)},
    )
    assert response.status_code == 302
    assert response["Location"] == reverse(
        "admin:booking_practitioner_change", args=[practitioner.pk]
    )
    time_off = TimeOff.objects.get()
    assert (time_off.practitioner, time_off.start, time_off.end) == (
        practitioner,
        at(6, 2, 9),
        at(6, 2, 17),
    )
    assert time_off.reason == "Training"
    session.refresh_from_db()
    assert session.practitioner == other and session.start == at(6, 2, 10)
    assert session.status == Session.Status.BOOKED
    assert Reminder.objects.get(session=session, kind=Kind.CHANGED).status == Status.PENDING
    assert any("1 session(s) handed to another practitioner" in m for m in said(response))

    mail.outbox.clear()
    send_all_due(now=at(6, 1, 8, 1))
    assert [m for m in mail.outbox if "session has moved" in m.subject]


def test_choosing_cancel_cancels_it_tells_the_patient_and_saves_the_time_off(
    session, practitioner, other, desk
):
    response = desk.post(
        time_off_page(practitioner),
        {**DAY_OFF, "resolving": "1", f"session_{session.pk}": CANCEL},
    )
    assert response.status_code == 302
    assert TimeOff.objects.filter(practitioner=practitioner).exists()
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert Reminder.objects.get(session=session, kind=Kind.CANCELLED).status == Status.PENDING


def test_a_handover_booked_meanwhile_applies_nothing_and_asks_again(
    now, session, treatment, practitioner, other, desk
):
    second = book(PatientFactory(), treatment, practitioner, [at(6, 2, 14)], now=now).sessions.get()
    desk.post(time_off_page(practitioner), DAY_OFF)  # the choices are shown
    book(
        PatientFactory(), treatment, other, [at(6, 2, 10)], now=now
    )  # and then someone books Dr Other at 10:00
    response = desk.post(
        time_off_page(practitioner),
        {
            **DAY_OFF,
            "resolving": "1",
            f"session_{session.pk}": str(other.pk),
            f"session_{second.pk}": CANCEL,
        },
    )
    assert response.status_code == 200
    assert "no longer free" in response.content.decode()
    assert any("Nothing was changed" in m for m in said(response))
    assert not TimeOff.objects.exists()
    session.refresh_from_db(), second.refresh_from_db()
    assert session.practitioner == practitioner and session.status == Session.Status.BOOKED
    assert second.status == Session.Status.BOOKED  # the cancel was not applied either
    assert not Reminder.objects.filter(kind__in=[Kind.CHANGED, Kind.CANCELLED]).exists()


def test_the_service_applies_nothing_when_a_handover_fails_under_the_lock(
    now, session, treatment, practitioner, other
):
    second = book(PatientFactory(), treatment, practitioner, [at(6, 2, 14)], now=now).sessions.get()
    book(
        PatientFactory(), treatment, other, [at(6, 2, 14)], now=now
    )  # Dr Other is busy at the second one's time
    with pytest.raises(BookingError, match="no longer free"):
        time_off_add(
            practitioner=practitioner,
            start=at(6, 2, 9),
            end=at(6, 2, 17),
            resolutions={session.pk: other.pk, second.pk: other.pk},
            now=now,
        )
    assert not TimeOff.objects.exists()
    session.refresh_from_db()
    assert session.practitioner == practitioner  # the first handover was rolled back
    assert not Reminder.objects.filter(session=session, kind=Kind.CHANGED).exists()


def test_the_service_refuses_a_session_left_without_a_choice(now, session, practitioner):
    with pytest.raises(BookingError, match="Choose who takes each session"):
        time_off_add(
            practitioner=practitioner, start=at(6, 2, 9), end=at(6, 2, 17), resolutions={}, now=now
        )
    assert not TimeOff.objects.exists()


def test_only_practitioners_free_at_that_exact_time_are_offered(
    now, session, treatment, practitioner, other
):
    busy = PractitionerFactory(treatments=[treatment], display_name="Dr Busy")
    book(
        PatientFactory(), treatment, busy, [at(6, 2, 11)], now=now
    )  # inside 10:00-11:15 plus the buffer
    PractitionerFactory(treatments=[treatment], display_name="Dr Away", hours=[])
    sessions = time_off_collisions(practitioner=practitioner, start=at(6, 2, 9), end=at(6, 2, 17))
    assert sessions == [session]
    assert handover_choices(sessions=sessions, now=now) == {session.pk: [other]}


def test_time_off_with_no_booked_session_saves_at_once(session, practitioner, desk):
    response = desk.post(
        time_off_page(practitioner),
        {"start": "2026-06-03T09:00", "end": "2026-06-03T12:00", "reason": ""},
    )
    assert response.status_code == 302
    assert TimeOff.objects.get().start == at(6, 3, 9)


def test_time_off_ending_before_it_starts_is_refused(practitioner, desk):
    response = desk.post(
        time_off_page(practitioner),
        {"start": "2026-06-03T12:00", "end": "2026-06-03T09:00", "reason": ""},
    )
    assert response.status_code == 200
    assert "must be after its start" in response.content.decode()
    assert not TimeOff.objects.exists()


def inline_data(practitioner, treatment, time_off_rows):
    """The practitioner's change form as posted, with these new time off rows."""
    hours = list(WorkingHours.objects.filter(practitioner=practitioner))
    data = {
        "display_name": practitioner.display_name,
        "credentials": practitioner.credentials,
        "bio": "",
        "treatments": [treatment.pk],
        "is_active": "on",
        "working_hours-TOTAL_FORMS": len(hours),
        "working_hours-INITIAL_FORMS": len(hours),
        "working_hours-MIN_NUM_FORMS": 0,
        "working_hours-MAX_NUM_FORMS": 1000,
        "time_off-TOTAL_FORMS": len(time_off_rows),
        "time_off-INITIAL_FORMS": 0,
        "time_off-MIN_NUM_FORMS": 0,
        "time_off-MAX_NUM_FORMS": 1000,
    }
    for i, row in enumerate(hours):
        data |= {
            f"working_hours-{i}-id": row.pk,
            f"working_hours-{i}-practitioner": practitioner.pk,
            f"working_hours-{i}-weekday": row.weekday,
            f"working_hours-{i}-start": f"{row.start:%H:%M}",
            f"working_hours-{i}-end": f"{row.end:%H:%M}",
        }
    for i, (start, end) in enumerate(time_off_rows):
        data |= {
            f"time_off-{i}-practitioner": practitioner.pk,
            f"time_off-{i}-start_0": f"{start:%Y-%m-%d}",
            f"time_off-{i}-start_1": f"{start:%H:%M}",
            f"time_off-{i}-end_0": f"{end:%Y-%m-%d}",
            f"time_off-{i}-end_1": f"{end:%H:%M}",
            f"time_off-{i}-reason": "Training",
        }
    return data


def test_the_practitioner_page_refuses_colliding_time_off_and_links_to_resolving_it(
    session, treatment, practitioner, desk
):
    page = desk.get(reverse("admin:booking_practitioner_change", args=[practitioner.pk]))
    assert time_off_page(practitioner) in page.content.decode()  # "Add time off"
    response = desk.post(
        reverse("admin:booking_practitioner_change", args=[practitioner.pk]),
        inline_data(practitioner, treatment, [(at(6, 2, 9), at(6, 2, 17))]),
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "falls over 1 booked session(s)" in html
    assert session.patient.full_name in html
    assert time_off_page(practitioner) + "?start=2026-06-02T09%3A00" in html
    assert not TimeOff.objects.exists()


def test_the_practitioner_page_saves_time_off_that_collides_with_nothing(
    session, treatment, practitioner, desk
):
    response = desk.post(
        reverse("admin:booking_practitioner_change", args=[practitioner.pk]),
        inline_data(practitioner, treatment, [(at(6, 3, 9), at(6, 3, 17))]),
    )
    assert response.status_code == 302
    assert TimeOff.objects.get().start == at(6, 3, 9)


def test_changing_time_off_onto_a_session_is_refused_on_the_time_off_page(
    session, practitioner, desk
):
    time_off = TimeOff.objects.create(
        practitioner=practitioner, start=at(6, 2, 12), end=at(6, 2, 17)
    )
    response = desk.post(
        reverse("admin:booking_timeoff_change", args=[time_off.pk]),
        {
            "practitioner": practitioner.pk,
            "start_0": "2026-06-02",
            "start_1": "09:00",
            "end_0": "2026-06-02",
            "end_1": "17:00",
            "reason": "",
        },
    )
    assert response.status_code == 200
    assert f"change={time_off.pk}" in response.content.decode()
    time_off.refresh_from_db()
    assert time_off.start == at(6, 2, 12)


def test_the_link_from_a_refused_change_changes_that_time_off(session, practitioner, other, desk):
    time_off = TimeOff.objects.create(
        practitioner=practitioner, start=at(6, 2, 12), end=at(6, 2, 17)
    )
    url = time_off_page(practitioner) + f"?change={time_off.pk}"
    response = desk.post(url, {**DAY_OFF, "resolving": "1", f"session_{session.pk}": str(other.pk)})
    assert response.status_code == 302
    time_off.refresh_from_db()
    assert (time_off.start, TimeOff.objects.count()) == (at(6, 2, 9), 1)


def test_a_clinician_cannot_add_time_off_here(practitioner, clinician, client_for):
    assert client_for(clinician).get(time_off_page(practitioner)).status_code == 403


def test_a_practitioner_off_sick_today_can_hand_todays_session_to_a_colleague(
    treatment, practitioner, other, patient, desk
):
    """Inside the patient's booking notice, staff may still hand a session over."""
    import time_machine

    booked_at = at(6, 1, 8)
    session = book(patient, treatment, practitioner, [at(6, 3, 14)], now=booked_at).sessions.get()
    with time_machine.travel(at(6, 3, 8), tick=False):  # the morning of the session
        assert handover_choices(sessions=[session], now=at(6, 3, 8))[session.pk] == [other]
        response = desk.post(
            time_off_page(practitioner),
            {
                "start": "2026-06-03T08:00",
                "end": "2026-06-03T18:00",
                "reason": "Off sick",
                "resolving": "1",
                f"session_{session.pk}": str(other.pk),
            },
        )
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.practitioner == other and session.start == at(6, 3, 14)
    assert TimeOff.objects.filter(practitioner=practitioner, reason="Off sick").exists()
    assert Reminder.objects.get(session=session, kind=Kind.CHANGED).status == Status.PENDING


def test_only_staff_move_a_session_inside_the_booking_notice(treatment, practitioner, patient):
    from booking.services import session_move

    session = book(patient, treatment, practitioner, [at(6, 3, 14)], now=at(6, 1, 8)).sessions.get()
    morning = at(6, 3, 8)
    with pytest.raises(BookingError, match="Please call us"):
        session_move(session=session, new_start=at(6, 3, 15), now=morning)
    moved = session_move(session=session, new_start=at(6, 3, 15), now=morning, by_staff=True)
    assert moved.session.start == at(6, 3, 15)
    with pytest.raises(BookingError, match="in the future"):
        session_move(session=session, new_start=at(6, 3, 7), now=morning, by_staff=True)
