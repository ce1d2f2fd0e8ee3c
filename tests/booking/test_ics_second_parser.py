"""Every calendar file the app writes, read by a second parser (vobject, not icalendar).

A course whose sessions fall either side of the October clock change: the
per-session and per-course downloads, a cancelled session's file, and the
files attached to the confirmation, reminder and cancellation emails. Each
event's start and end, read through the file's own VTIMEZONE, are the
session's instants; UIDs and SEQUENCE match; the VTIMEZONE's onsets are the
zone's real changes (booking/calendar_zone.py).
"""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
import vobject
from django.core import mail
from django.urls import reverse

from booking import services
from tests.helpers import at, book
from tests.worker import send_all_due

pytestmark = pytest.mark.django_db
SEPTEMBER = datetime(2026, 9, 14, 9, tzinfo=UTC)


# Either side of London's changes in the files' years: 01:00 UTC on each change day.
CHANGES = [datetime(2026, 3, 29, 1, tzinfo=UTC), datetime(2026, 10, 25, 1, tzinfo=UTC),
           datetime(2027, 3, 28, 1, tzinfo=UTC), datetime(2027, 10, 31, 1, tzinfo=UTC)]  # fmt: skip


def events(data: bytes) -> dict[str, vobject.base.Component]:
    calendar = vobject.readOne(data.decode())
    assert calendar.name == "VCALENDAR" and calendar.vtimezone.tzid.value == "Europe/London"
    # The file's VTIMEZONE, as vobject reads it, puts the clock changes where they are.
    parsed, london = calendar.vtimezone.gettzinfo(), ZoneInfo("Europe/London")
    for change in CHANGES:
        for minutes in (-90, -30, -1, 0, 1, 30, 90):
            instant = change + timedelta(minutes=minutes)
            assert instant.astimezone(parsed).utcoffset() == instant.astimezone(london).utcoffset()
    return {event.uid.value: event for event in calendar.vevent_list}


def check(data: bytes, sessions, *, sent_before_a_change: bool = False) -> None:
    found = events(data)
    assert set(found) == {f"session-{s.pk}@{s_host()}" for s in sessions}
    for session in sessions:
        event = found[f"session-{session.pk}@{s_host()}"]
        start, end = event.dtstart.value, event.dtend.value
        assert start.tzinfo is not None and end.tzinfo is not None  # read through VTIMEZONE
        assert (start, end) == (session.start, session.end), event.summary.value
        if sent_before_a_change:  # an email keeps the SEQUENCE it was written with
            assert int(event.sequence.value) <= session.sequence
        else:
            assert int(event.sequence.value) == session.sequence


def s_host() -> str:
    from urllib.parse import urlsplit

    from django.conf import settings

    return urlsplit(settings.SITE_URL).hostname or "clinic.localhost"


def test_every_calendar_file_reads_the_same_in_a_second_parser(
    client, treatment, practitioner, patient
):
    with time_machine.travel(SEPTEMBER, tick=False):
        # 20 October is summer time (BST); 17 November is GMT.
        course = book(patient, treatment, practitioner, [at(10, 20, 10), at(11, 17, 10)])
        sessions = list(course.sessions.order_by("number"))
        assert [s.start.hour for s in sessions] == [9, 10]  # in UTC: 10:00 BST, 10:00 GMT
        client.force_login(patient.user)
        for session in sessions:
            url = reverse("booking:session_ics", args=[session.pk])
            check(client.get(url).content, [session])
        check(client.get(reverse("booking:course_ics", args=[course.pk])).content, sessions)
        send_all_due(now=SEPTEMBER)  # the confirmation
    with time_machine.travel(at(11, 16, 9), tick=False):
        send_all_due()  # session 2's reminder
        services.session_cancel(session=sessions[1], notify=True, by_staff=True)  # by phone
        send_all_due()  # the cancellation
        sessions[1].refresh_from_db()
        client.logout()  # weeks later: signed out for being idle, and signed in again
        client.force_login(patient.user)
        response = client.get(reverse("booking:session_ics", args=[sessions[1].pk]))
        assert response.status_code == 200
        cancelled = response.content
    assert "METHOD:CANCEL" in cancelled.decode() and events(cancelled)
    check(cancelled, [sessions[1]])
    attached = [
        (message.subject, content)
        for message in mail.outbox
        for _name, content, kind in message.attachments
        if kind.startswith("text/calendar")
    ]
    assert len(attached) >= 3, ([s for s, _ in attached], [m.subject for m in mail.outbox])
    for subject, content in attached:
        data = content if isinstance(content, bytes) else content.encode()
        uids = set(events(data))
        mine = [s for s in sessions if f"session-{s.pk}@{s_host()}" in uids]
        check(data, mine, sent_before_a_change=True)
        assert uids, subject
