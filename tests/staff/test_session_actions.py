"""Staff act on sessions from the admin: attendance, cancel, move, and the list as CSV."""

import csv
import io

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from booking.models import Practitioner, Reminder, ReminderEvent, Session
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.helpers import at, book
from tests.staff.admin_messages import said
from tests.worker import send_all_due

Kind, Status = Reminder.Kind, Reminder.Status
AFTERCARE_SUBJECT = "Looking after your skin"
CHECK_IN_SUBJECT = "check-in"


def url(name, session, *args):
    return reverse(f"admin:booking_session_{name}", args=[session.pk, *args])


def run_action(client, action, sessions, **extra):
    data = {"action": action, "_selected_action": [s.pk for s in sessions], "index": 0}
    return client.post(reverse("admin:booking_session_changelist"), {**data, **extra})


@pytest.fixture
def session(now, treatment, practitioner, patient):
    """Tuesday 2 June 10:00 to 11:15."""
    return book(patient, treatment, practitioner, [at(6, 2, 10)], now=now).sessions.get()


@pytest.fixture
def own_session(now, treatment, clinician):
    return book(
        PatientFactory(),
        treatment,
        Practitioner.objects.get(user=clinician),
        [at(6, 2, 10)],
        now=now,
    ).sessions.get()


# --- attendance -------------------------------------------------------------


def test_reception_marks_a_session_attended_from_its_page(session, reception, client_for):
    client = client_for(reception)
    with time_machine.travel(at(6, 2, 9, 55), tick=False):  # the patient is early
        page = client.get(url("change", session)).content.decode()
        assert "Mark attended" in page and url("attended", session) in page
        response = client.post(url("attended", session))
    assert response.status_code == 302 and response["Location"] == url("change", session)
    session.refresh_from_db()
    assert session.status == Session.Status.ATTENDED
    assert any("is marked attended" in m for m in said(response))
    latest = session.history.first()
    assert latest.status == "attended" and latest.history_user == reception


def test_attendance_cannot_be_marked_before_the_sessions_day(session, reception, client_for):
    client = client_for(reception)
    page = client.get(url("change", session)).content.decode()  # Monday; the session is Tuesday
    assert "Mark attended" not in page
    assert "from the day of the session" in page
    response = client.post(url("attended", session))
    assert any("from its day on" in m for m in said(response))
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED


def test_a_no_show_cannot_be_marked_before_the_start(session, reception, client_for):
    client = client_for(reception)
    with time_machine.travel(at(6, 2, 9, 55), tick=False):
        assert "Mark as a no-show" not in client.get(url("change", session)).content.decode()
        response = client.post(url("no_show", session))
    assert any("only once its start has passed" in m for m in said(response))
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED


def test_reception_marks_several_sessions_attended_from_the_list(
    now, session, treatment, practitioner, reception, client_for
):
    afternoon = book(
        PatientFactory(), treatment, practitioner, [at(6, 2, 14)], now=now
    ).sessions.get()
    client = client_for(reception)
    with time_machine.travel(at(6, 2, 16), tick=False):
        response = run_action(client, "mark_attended", [session, afternoon])
    assert response.status_code == 302
    assert any("2 sessions are marked attended" in m for m in said(response))
    for marked in (session, afternoon):
        marked.refresh_from_db()
        assert marked.status == Session.Status.ATTENDED
        assert marked.history.first().history_user == reception


def test_a_session_that_cannot_be_marked_is_named_and_the_rest_are_marked(
    now, session, treatment, practitioner, reception, client_for
):
    tomorrow = book(
        PatientFactory(), treatment, practitioner, [at(6, 3, 10)], now=now
    ).sessions.get()
    client = client_for(reception)
    with time_machine.travel(at(6, 2, 16), tick=False):
        response = run_action(client, "mark_no_show", [session, tomorrow])
    messages = said(response)
    assert any("is marked a no-show" in m for m in messages)
    assert any("Wed 3 Jun 10:00" in m and "only once its start" in m for m in messages)
    session.refresh_from_db(), tomorrow.refresh_from_db()
    assert (session.status, tomorrow.status) == (Session.Status.NO_SHOW, Session.Status.BOOKED)


def test_a_no_show_before_the_aftercare_email_gets_no_aftercare_or_check_in(
    session, reception, client_for
):
    client = client_for(reception)
    with time_machine.travel(at(6, 2, 11, 30), tick=False):  # aftercare is due at 13:15
        response = client.post(url("no_show", session))
    assert any("is marked a no-show" in m for m in said(response))
    rows = {r.kind: r for r in Reminder.objects.filter(session=session)}
    for kind in (Kind.AFTERCARE, Kind.CHECK_IN):
        assert rows[kind].status == Status.CANCELLED
        assert rows[kind].reason == "The patient did not come."
        assert ReminderEvent.objects.filter(reminder=rows[kind], event="cancelled").exists()
    assert session.history.first().history_user == reception

    mail.outbox.clear()
    send_all_due(now=at(6, 10, 12))
    subjects = [m.subject for m in mail.outbox]
    assert subjects  # the confirmation still went
    assert not [s for s in subjects if AFTERCARE_SUBJECT in s or CHECK_IN_SUBJECT in s]


def test_marking_attended_keeps_the_aftercare_email(session, reception, client_for):
    client = client_for(reception)
    with time_machine.travel(at(6, 2, 11, 30), tick=False):
        client.post(url("attended", session))
    mail.outbox.clear()
    send_all_due(now=at(6, 2, 14))
    assert [m for m in mail.outbox if AFTERCARE_SUBJECT in m.subject]


# --- cancel -----------------------------------------------------------------


def test_cancelling_with_notice_queues_the_cancelled_email(session, reception, client_for):
    client = client_for(reception)
    page = client.get(url("cancel", session))
    assert page.status_code == 200
    assert "Tell the patient?" in page.content.decode()
    response = client.post(url("cancel", session), {"notify": "yes"})
    assert response.status_code == 302
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert Reminder.objects.get(session=session, kind=Kind.CANCELLED).status == Status.PENDING
    assert any("is cancelled. The patient is told" in m for m in said(response))
    assert session.history.first().history_user == reception


def test_cancelling_without_notice_queues_no_email(session, reception, client_for):
    client = client_for(reception)
    client.post(url("cancel", session), {"notify": "no"})
    session.refresh_from_db()
    assert session.status == Session.Status.CANCELLED
    assert not Reminder.objects.filter(session=session, kind=Kind.CANCELLED).exists()
    assert not Reminder.objects.open().filter(session=session, kind=Kind.AFTERCARE).exists()


@pytest.mark.parametrize(
    ("action", "notified"), [("cancel_with_notice", True), ("cancel_without_notice", False)]
)
def test_cancelling_from_the_list_asks_first(
    now, session, treatment, practitioner, reception, client_for, action, notified
):
    later = book(PatientFactory(), treatment, practitioner, [at(6, 4, 10)], now=now).sessions.get()
    client = client_for(reception)
    confirm = run_action(client, action, [session, later])
    assert confirm.status_code == 200
    assert "Yes, cancel 2 sessions" in confirm.content.decode()
    assert Session.objects.filter(status=Session.Status.BOOKED).count() == 2

    data = {"action": action, "_selected_action": [session.pk, later.pk], "post": "yes"}
    response = client.post(reverse("admin:booking_session_changelist"), data)
    assert response.status_code == 302
    assert Session.objects.filter(status=Session.Status.CANCELLED).count() == 2
    notices = Reminder.objects.filter(kind=Kind.CANCELLED, status=Status.PENDING)
    assert notices.count() == (2 if notified else 0)


def test_a_session_that_has_started_cannot_be_cancelled(session, reception, client_for):
    client = client_for(reception)
    with time_machine.travel(at(6, 2, 10, 5), tick=False):
        assert "Cancel this session" not in client.get(url("change", session)).content.decode()
        response = client.post(url("cancel", session), {"notify": "yes"})
    assert "already started" in response.content.decode()  # beside the form, which stays
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED


# --- move -------------------------------------------------------------------


def test_reception_moves_a_session_to_another_free_time(session, reception, client_for):
    client = client_for(reception)
    page = client.get(url("move", session), {"day": "2026-06-03"}).content.decode()
    assert "Wed 3 Jun, 10:00" in page
    assert '<label for="id_practitioner">Practitioner</label>' in page
    new_start = at(6, 3, 10)
    response = client.post(
        url("move", session),
        {"practitioner": session.practitioner_id, "start": new_start.isoformat()},
    )
    assert response.status_code == 302 and response["Location"] == url("change", session)
    session.refresh_from_db()
    assert session.start == new_start
    assert Reminder.objects.get(session=session, kind=Kind.CHANGED).status == Status.PENDING
    assert session.history.first().history_user == reception


def test_moving_to_another_practitioner_hands_the_session_over(
    session, treatment, reception, client_for
):
    other = PractitionerFactory(treatments=[treatment], display_name="Dr Other")
    client = client_for(reception)
    page = client.get(url("move", session), {"practitioner": other.pk, "day": "2026-06-02"})
    assert "Tue 2 Jun, 10:00" in page.content.decode()
    client.post(
        url("move", session), {"practitioner": other.pk, "start": session.start.isoformat()}
    )
    session.refresh_from_db()
    assert session.practitioner == other and session.start == at(6, 2, 10)


def test_a_time_taken_meanwhile_is_refused_with_a_message(
    now, session, treatment, practitioner, reception, client_for
):
    client = client_for(reception)
    assert (
        "Wed 3 Jun, 10:00"
        in client.get(url("move", session), {"day": "2026-06-03"}).content.decode()
    )
    book(
        PatientFactory(), treatment, practitioner, [at(6, 3, 10)], now=now
    )  # someone else takes it first
    response = client.post(
        url("move", session), {"practitioner": practitioner.pk, "start": at(6, 3, 10).isoformat()}
    )
    assert response.status_code == 302
    assert any("has just been booked" in m for m in said(response))
    session.refresh_from_db()
    assert session.start == at(6, 2, 10)
    assert not Reminder.objects.filter(session=session, kind=Kind.CHANGED).exists()


# --- who may do what --------------------------------------------------------


def test_a_clinician_marks_attendance_on_their_own_sessions(own_session, clinician, client_for):
    client = client_for(clinician)
    with time_machine.travel(at(6, 2, 11, 30), tick=False):
        page = client.get(url("change", own_session)).content.decode()
        assert "Mark attended" in page
        assert "Cancel this session" not in page and "Move to another time" not in page
        client.post(url("attended", own_session))
    own_session.refresh_from_db()
    assert own_session.status == Session.Status.ATTENDED
    assert own_session.history.first().history_user == clinician


def test_another_practitioners_session_answers_as_a_missing_one(session, clinician, client_for):
    client = client_for(clinician)
    with time_machine.travel(at(6, 2, 11, 30), tick=False):
        for name in ("attended", "no_show"):
            answer = client.post(url(name, session))
            missing = client.post(reverse(f"admin:booking_session_{name}", args=[987654]))
            assert answer.status_code == 302
            assert (answer.status_code, answer["Location"]) == (
                missing.status_code,
                missing["Location"],
            )
            assert any("doesn’t exist" in m for m in said(answer))
        run_action(client, "mark_no_show", [session])  # not in their list either
    session.refresh_from_db()
    assert session.status == Session.Status.BOOKED


def test_a_clinician_cannot_cancel_or_move(own_session, clinician, client_for):
    client = client_for(clinician)
    assert client.get(url("cancel", own_session)).status_code == 403
    assert client.post(url("cancel", own_session), {"notify": "no"}).status_code == 403
    assert client.get(url("move", own_session)).status_code == 403
    listing = client.get(reverse("admin:booking_session_changelist"))
    actions = [name for name, _label in listing.context["action_form"].fields["action"].choices]
    assert "mark_attended" in actions and "export_selected" in actions
    assert "cancel_with_notice" not in actions and "cancel_without_notice" not in actions
    run_action(client, "cancel_with_notice", [own_session], post="yes")
    own_session.refresh_from_db()
    assert own_session.status == Session.Status.BOOKED


def test_a_content_editor_can_do_none_of_it(session, editor, client_for):
    client = client_for(editor)
    for name in ("attended", "no_show", "cancel", "move"):
        assert client.post(url(name, session)).status_code == 403, name
    assert client.get(reverse("admin:booking_session_export")).status_code == 403
    assert run_action(client, "mark_attended", [session]).status_code == 403


# --- CSV --------------------------------------------------------------------


def rows(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode())))


def test_the_export_holds_the_lists_current_filter(
    now, session, treatment, practitioner, reception, client_for
):
    other = PractitionerFactory(treatments=[treatment], display_name="Dr Other")
    elsewhere = book(PatientFactory(), treatment, other, [at(6, 2, 10)], now=now).sessions.get()
    cancelled = book(
        PatientFactory(), treatment, practitioner, [at(6, 4, 10)], now=now
    ).sessions.get()
    client = client_for(reception)
    client.post(url("cancel", cancelled), {"notify": "no"})

    listing = client.get(
        reverse("admin:booking_session_changelist"), {"practitioner__id__exact": practitioner.pk}
    )
    export = reverse("admin:booking_session_export") + f"?practitioner__id__exact={practitioner.pk}"
    assert export in listing.content.decode()

    found = rows(client.get(export))
    assert found[0] == [
        "Start",
        "End",
        "Practitioner",
        "Patient",
        "Phone",
        "Treatment",
        "Session",
        "Status",
    ]
    assert found[1:] == [
        [
            "2026-06-02 10:00",
            "2026-06-02 11:15",
            str(practitioner),
            session.patient.full_name,
            session.patient.phone,
            "Microneedling",
            "1 of 1",
            "Booked",
        ],
        [
            "2026-06-04 10:00",
            "2026-06-04 11:15",
            str(practitioner),
            cancelled.patient.full_name,
            cancelled.patient.phone,
            "Microneedling",
            "1 of 1",
            "Cancelled",
        ],
    ]
    booked_only = rows(
        client.get(reverse("admin:booking_session_export"), {"status__exact": "booked"})
    )
    assert sorted(r[3] for r in booked_only[1:]) == sorted(
        [session.patient.full_name, elsewhere.patient.full_name]
    )


def test_exporting_the_selected_sessions(
    now, session, treatment, practitioner, reception, client_for
):
    book(PatientFactory(), treatment, practitioner, [at(6, 4, 10)], now=now)
    found = rows(run_action(client_for(reception), "export_selected", [session]))
    assert [r[3] for r in found[1:]] == [session.patient.full_name]


def test_a_clinicians_export_holds_only_their_sessions(own_session, session, clinician, client_for):
    found = rows(client_for(clinician).get(reverse("admin:booking_session_export")))
    assert [r[3] for r in found[1:]] == [own_session.patient.full_name]


def test_a_cell_a_spreadsheet_would_run_stays_text(
    now, treatment, practitioner, reception, client_for
):
    book(
        PatientFactory(full_name="=HYPERLINK(1)"), treatment, practitioner, [at(6, 2, 10)], now=now
    )
    found = rows(client_for(reception).get(reverse("admin:booking_session_export")))
    assert found[1][3] == "'=HYPERLINK(1)"
