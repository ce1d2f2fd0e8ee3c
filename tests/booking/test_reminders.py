"""Reminder rows: timed right, moved and cancelled with their session, sent once."""

import smtplib
import threading
from collections import Counter
from datetime import UTC, datetime, time, timedelta

import pytest
import time_machine
from django.core import mail
from django.db import connection
from django.test import Client
from django.urls import reverse
from icalendar import Calendar

from booking import reminders, services
from booking.models import Reminder, ReminderSettings, Session
from booking.reminder_emails import unsubscribe_token
from booking.reminder_kinds import AFTER_THE_SESSION, KINDS, SESSION_TIMED
from booking.reminder_timing import after_quiet_hours, due_times
from booking.reminders import dispatch_due, reminder_send
from clinic.emails import EMAIL_KINDS
from tests.booking.conftest import LONDON
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.booking.smtp_sink import SmtpSink
from tests.helpers import at, book
from tests.worker import send_all_due

Kind, Status = Reminder.Kind, Reminder.Status


SETTINGS = ReminderSettings()


class TestTiming:
    def test_no_reminder_when_booked_30_hours_ahead(self):
        times = due_times(
            start=at(6, 3, 10),
            end=at(6, 3, 11),
            booked_at=at(6, 2, 4),
            zone=LONDON,
            settings=SETTINGS,
        )
        assert times["reminder"] is None
        assert times["aftercare"] == at(6, 3, 13)
        assert times["check_in"] == at(6, 6, 11)

    def test_quiet_hours_wait_until_eight(self):
        assert after_quiet_hours(at(6, 3, 22, 30), LONDON, time(21), time(8)) == at(6, 4, 8)
        assert after_quiet_hours(at(6, 4, 6), LONDON, time(21), time(8)) == at(6, 4, 8)
        assert after_quiet_hours(at(6, 4, 12), LONDON, time(21), time(8)) == at(6, 4, 12)
        late = due_times(
            start=at(6, 10, 17),
            end=at(6, 10, 19, 15),
            booked_at=at(6, 1, 9),
            zone=LONDON,
            settings=SETTINGS,
        )
        assert late["aftercare"] == at(6, 11, 8)  # 21:15 is quiet

    def test_a_reminder_just_after_the_march_change_is_48_real_hours_before(self):
        start = at(3, 30, 10)  # Monday, the day after clocks go forward
        times = due_times(
            start=start,
            end=start + timedelta(hours=1),
            booked_at=at(3, 1, 9),
            zone=LONDON,
            settings=SETTINGS,
        )
        assert times["reminder"] == start.astimezone(UTC) - timedelta(hours=48)
        assert times["reminder"].astimezone(LONDON).hour == 9  # 09:00 GMT, 48 real hours
        assert times["reminder"].astimezone(UTC) == datetime(2026, 3, 28, 9, tzinfo=UTC)


def kinds(course):
    return Counter(Reminder.objects.filter(session__course=course).values_list("kind", flat=True))


@pytest.mark.django_db
class TestScheduling:
    def test_booking_creates_every_row_in_the_same_transaction(self, course):
        assert kinds(course) == {
            Kind.CONFIRMATION: 1,
            Kind.CLINIC_NOTICE: 1,
            Kind.REMINDER: 3,
            Kind.AFTERCARE: 3,
            Kind.CHECK_IN: 3,
        }
        first = course.sessions.get(number=1)
        assert first.reminders.get(kind=Kind.REMINDER).due_at == at(6, 8, 10)

    def test_a_move_re_times_the_rows_and_queues_a_change_notice(self, now, course):
        second = course.sessions.get(number=2)
        services.session_move(session=second, new_start=at(7, 8, 14))
        rows = {r.kind: r for r in second.reminders.all()}
        assert rows[Kind.REMINDER].due_at == at(7, 6, 14)
        assert rows[Kind.AFTERCARE].due_at == at(7, 8, 17, 15)
        assert rows[Kind.REMINDER].version == 2
        assert rows[Kind.CHANGED].status == Status.PENDING

    def test_a_cancel_cancels_the_rows_and_queues_one_notice(self, now, course):
        services.course_cancel(course=course)
        open_rows = Reminder.objects.open().filter(session__course=course)
        assert set(open_rows.values_list("kind", flat=True)) == {
            Kind.CANCELLED,
            Kind.CONFIRMATION,
            Kind.CLINIC_NOTICE,
        }
        assert open_rows.filter(kind=Kind.CANCELLED).count() == 1


@pytest.mark.django_db
class TestSending:
    def test_due_rows_go_once_with_the_idempotency_key(self, now, course):
        assert send_all_due(now=now) == 2  # the confirmation and the clinic notice
        assert send_all_due(now=now) == 0
        confirmation = next(m for m in mail.outbox if "confirmed" in m.subject)
        row = Reminder.objects.get(kind=Kind.CONFIRMATION)
        assert confirmation.extra_headers["Idempotency-Key"] == f"reminder/{row.pk}/v1"
        assert confirmation.extra_headers["Message-ID"] == row.message_id
        events = Calendar.from_ical(confirmation.attachments[0][1]).walk("VEVENT")
        assert len(events) == 3
        assert confirmation.alternatives[0][1] == "text/html"

    def test_nothing_for_a_session_cancelled_between_claim_and_send(self, now, course):
        with time_machine.travel(at(6, 8, 10, 1), tick=False):
            claimed = dispatch_due(now=at(6, 8, 10, 1))
            first = course.sessions.get(number=1)
            reminder = first.reminders.get(kind=Kind.REMINDER)
            assert reminder.pk in claimed
            services.session_cancel(session=first, by_staff=True)
            mail.outbox.clear()
            assert reminder_send(reminder_id=reminder.pk) == "not claimed"
        assert not [m for m in mail.outbox if "Reminder" in m.subject]
        reminder.refresh_from_db()
        assert reminder.status == Status.CANCELLED

    def test_no_aftercare_for_a_no_show(self, now, course):
        first = course.sessions.get(number=1)
        Session.objects.filter(pk=first.pk).update(status=Session.Status.NO_SHOW)
        send_all_due(now=at(6, 10, 14))
        aftercare = first.reminders.get(kind=Kind.AFTERCARE)
        assert aftercare.status == Status.SKIPPED
        assert not [m for m in mail.outbox if "Looking after your skin" in m.subject]

    def test_the_patient_can_turn_check_ins_off_by_one_click(self, now, course, patient):
        url = reverse(
            "booking:email_unsubscribe", args=[unsubscribe_token(patient.pk, Kind.CHECK_IN)]
        )
        assert Client(enforce_csrf_checks=True).post(url).status_code == 200
        patient.refresh_from_db()
        assert patient.email_check_in is False
        send_all_due(now=at(6, 13, 12))
        assert (
            course.sessions.get(number=1).reminders.get(kind=Kind.CHECK_IN).status == Status.SKIPPED
        )

    def test_check_in_carries_one_click_unsubscribe(self, now, course):
        send_all_due(now=at(6, 13, 12))
        check_in = next(m for m in mail.outbox if "check-in" in m.subject)
        assert check_in.extra_headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        assert "/emails/stop/" in check_in.extra_headers["List-Unsubscribe"]

    def test_cancellation_email_carries_a_cancel_calendar_file(self, now, course):
        services.course_cancel(course=course)
        send_all_due(now=now)
        cancelled = next(m for m in mail.outbox if "cancelled" in m.subject)
        calendar = Calendar.from_ical(cancelled.attachments[0][1])
        assert str(calendar["METHOD"]) == "CANCEL"
        assert len(calendar.walk("VEVENT")) == 3


@pytest.mark.django_db
class TestEachKindsPremiseAtSending:
    """booking/reminder_kinds.py: what each kind needs to be true when it goes out."""

    def test_the_table_describes_every_kind_once(self):
        assert set(KINDS) == set(Kind)
        times = due_times(
            start=at(6, 3, 10),
            end=at(6, 3, 11),
            booked_at=at(6, 1, 9),
            zone=LONDON,
            settings=SETTINGS,
        )
        assert set(times) == set(SESSION_TIMED)
        assert {f"booking.{kind}" for kind in Kind} <= set(EMAIL_KINDS)
        assert set(AFTER_THE_SESSION) <= set(SESSION_TIMED)

    def test_aftercare_due_early_waits_for_the_end_of_the_session(self, now, course):
        """A row brought forward (an admin edit, a clock fault) goes out only after the end."""
        first = course.sessions.get(number=1)  # 10 June, 10:00 to 11:15
        aftercare = first.reminders.get(kind=Kind.AFTERCARE)
        Reminder.objects.filter(pk=aftercare.pk).update(due_at=at(6, 9, 9))
        assert send_all_due(now=at(6, 8, 10)) == 3  # confirmation, clinic notice, reminder
        assert send_all_due(now=at(6, 10, 10, 30)) == 0  # half way through the session
        aftercare.refresh_from_db()
        assert (aftercare.status, aftercare.due_at) == (Status.PENDING, at(6, 10, 13, 15))
        assert not [m for m in mail.outbox if "Looking after your skin" in m.subject]
        assert aftercare.events.filter(event="deferred").exists()
        send_all_due(now=at(6, 10, 13, 15))
        aftercare.refresh_from_db()
        assert aftercare.status == Status.SENT

    def test_no_book_again_email_once_the_course_is_cancelled(self, now, course):
        second = course.sessions.get(number=2)
        services.session_cancel(session=second, by_staff=True, override_reason="Asked by phone")
        next_window = second.reminders.get(kind=Kind.NEXT_WINDOW)
        services.course_cancel(course=course)
        send_all_due(now=next_window.due_at)
        next_window.refresh_from_db()
        assert (next_window.status, next_window.reason) == (
            Status.SKIPPED,
            "The course was cancelled.",
        )


class DownBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError(111, "Connection refused")


class RejectingBackend(DownBackend):
    def send_messages(self, messages):
        raise smtplib.SMTPDataError(550, b"mailbox unavailable")


@pytest.mark.django_db
class TestFailures:
    def test_smtp_down_defers_without_using_attempts_then_sends_once(self, now, course, settings):
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 1, 2
        assert send_all_due(now=now) == 0
        row = Reminder.objects.get(kind=Kind.CONFIRMATION)
        assert (row.status, row.attempts, row.deferrals) == (Status.PENDING, 0, 1)
        assert row.due_at > now
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert send_all_due(now=now + timedelta(hours=1)) == 2
        assert send_all_due(now=now + timedelta(hours=2)) == 0

    def test_permanent_failures_use_attempts_and_end_failed(self, now, course, settings):
        settings.EMAIL_BACKEND = "tests.booking.test_reminders.RejectingBackend"
        moment = now
        for _ in range(ReminderSettings.current().max_attempts):
            send_all_due(now=moment)
            moment += timedelta(hours=2)
        row = Reminder.objects.get(kind=Kind.CONFIRMATION)
        assert row.status == Status.FAILED
        assert row.attempts == ReminderSettings.current().max_attempts
        assert "550" in row.last_error
        reminders.reminder_retry(row, now=moment)
        settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
        assert send_all_due(now=moment) >= 1

    def test_a_booking_succeeds_while_smtp_is_down(
        self, now, patient, treatment, practitioner, settings
    ):
        settings.EMAIL_BACKEND = "tests.booking.test_reminders.DownBackend"
        course = book(patient, treatment, practitioner, [at(6, 10, 10)])
        send_all_due(now=now)
        assert course.pk and Reminder.objects.filter(status=Status.PENDING).count() >= 2


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_over_500_due_rows_send_each_exactly_once(treatment, settings):
    practitioner = PractitionerFactory(treatments=[treatment])
    now = at(5, 29, 8)  # far enough ahead that every session gets its 48-hour reminder
    rows = []
    weekdays = [d for d in (at(6, 2, 9) + timedelta(days=n) for n in range(40)) if d.weekday() < 5]
    for i in range(100):  # 100 single-session courses, 5 a weekday: 5 rows each
        start = weekdays[i // 5] + timedelta(minutes=90 * (i % 5))
        course = book(PatientFactory(), treatment, practitioner, [start], now=now)
        rows.extend(Reminder.objects.filter(session__course=course))
    Reminder.objects.update(due_at=now)
    assert Reminder.objects.count() == 500
    barrier = threading.Barrier(2)

    def dispatcher():
        barrier.wait()
        try:
            while ids := dispatch_due(now=now, batch=25):
                for reminder_id in ids:
                    reminder_send(reminder_id=reminder_id, now=now)
        finally:
            connection.close()

    with SmtpSink() as sink:  # sends counted where they arrive
        settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
        settings.EMAIL_HOST, settings.EMAIL_PORT = "127.0.0.1", sink.port
        threads = [threading.Thread(target=dispatcher) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=300)
        keys = Counter(m["key"] for m in sink.messages)
    handled = Reminder.objects.filter(status__in=[Status.SENT, Status.SKIPPED]).count()
    # Aftercare and check-in fell due before their sessions: each waits for its own time.
    waiting = Reminder.objects.filter(status=Status.PENDING, kind__in=AFTER_THE_SESSION)
    assert (handled, waiting.count()) == (300, 200)
    assert all(row.due_at > row.session.end for row in waiting.select_related("session"))
    assert sum(keys.values()) == Reminder.objects.filter(status=Status.SENT).count()
    assert max(keys.values()) == 1


@pytest.mark.django_db
def test_the_reminder_log_keeps_each_rows_history(now, course, admin_client, settings):
    settings.EMAIL_BACKEND = "tests.booking.test_reminders.DownBackend"
    send_all_due(now=now)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    send_all_due(now=now + timedelta(hours=1))
    row = Reminder.objects.get(kind=Kind.CONFIRMATION)
    assert list(row.events.values_list("event", flat=True)) == [
        "claimed",
        "deferred",
        "claimed",
        "sent",
    ]
    page = admin_client.get(reverse("admin:booking_reminder_change", args=[row.pk]))
    assert page.status_code == 200
    assert "deferred" in page.content.decode() and "ConnectionRefusedError" in page.content.decode()
