"""A session in the patient's calendar: .ics files, and "add to" links for web calendars.

The .ics: one VEVENT per session, a stable UID, a rising SEQUENCE. Calendar
apps match events by UID and keep the copy with the highest SEQUENCE, so a
moved session replaces the old entry and a cancelled one (METHOD:CANCEL,
STATUS:CANCELLED) removes it. RFC 5545 / RFC 5546.

The links open Google Calendar or Outlook on the web with the event filled in
(times in UTC). They carry the same title, place and note as the .ics
(`event_text`), none of which names the patient.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from urllib.parse import quote, urlencode, urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event, vCalAddress, vText

from clinic.models import ClinicDetails

from .calendar_zone import vtimezone
from .models import Session

PRODID = "-//Clinic booking//clinic app//EN"


def session_uid(session: Session) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "clinic.localhost"
    return f"session-{session.pk}@{host}"


@dataclass(frozen=True)
class EventText:
    title: str
    location: str
    description: str


def event_text(session: Session, clinic: ClinicDetails, *, treatment: bool = True) -> EventText:
    """What a calendar shows for the session, for the .ics and the links alike.

    Not `treatment`: the title leaves the treatment out, for the Google and Outlook
    links, whose query strings reach another company's servers and logs (the app puts
    no health data in a URL: tests/test_privacy_logs.py). The .ics file stays on the
    patient's device and names it."""
    course = session.course
    values = {
        "treatment": course.treatment.name,
        "number": session.number,
        "planned": course.sessions_planned,
        "clinic": clinic.name,
    }
    if treatment:
        title = gettext("%(treatment)s: session %(number)d of %(planned)d at %(clinic)s")
    elif course.sessions_planned > 1:
        title = gettext("Session %(number)d of %(planned)d at %(clinic)s")
    else:
        title = gettext("Appointment at %(clinic)s")
    return EventText(
        title=title % values,
        location=", ".join([clinic.name, *clinic.address_lines]),
        description=gettext(
            "With %(practitioner)s. To change or cancel, go to %(url)s or call %(phone)s."
        )
        % {
            "practitioner": session.practitioner.display_name,
            "url": f"{settings.SITE_URL}/appointments/",
            "phone": clinic.phone,
        },
    )


def _event(session: Session, clinic: ClinicDetails, stamp) -> Event:
    event = Event()
    text = event_text(session, clinic)
    event.add("uid", session_uid(session))
    event.add("sequence", session.sequence)
    event.add("dtstamp", stamp)
    zone = ZoneInfo(settings.TIME_ZONE)  # local times with TZID, so calendars show wall time
    event.add("dtstart", session.start.astimezone(zone))
    event.add("dtend", session.end.astimezone(zone))
    event.add("summary", text.title)
    event.add("location", vText(text.location))
    event.add("description", text.description)
    organizer = vCalAddress(f"mailto:{clinic.email}")
    organizer.params["cn"] = vText(clinic.name)
    event.add("organizer", organizer)
    cancelled = session.status == Session.Status.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    return event


def sessions_ics(
    sessions: Iterable[Session], *, cancel: bool = False, clinic: ClinicDetails | None = None
) -> bytes:
    """A calendar file for these sessions (METHOD:CANCEL when `cancel`)."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if cancel else "PUBLISH")
    clinic, stamp = clinic or ClinicDetails.current(), timezone.now()
    sessions = list(sessions)
    if sessions:
        # The clinic zone's changes around these sessions, onsets as RFC 5545 has them
        # (booking/calendar_zone.py: icalendar's own writes some an hour late).
        years = [s.start.year for s in sessions]
        calendar.add_component(
            vtimezone(settings.TIME_ZONE, date(min(years) - 1, 1, 1), date(max(years) + 1, 12, 31))
        )
    for session in sessions:
        calendar.add_component(_event(session, clinic, stamp))
    return calendar.to_ical()


def _link(base: str, params: dict[str, str]) -> str:
    # %20 for spaces, not "+": Outlook shows a "+" as it is. "/" and ":" may stand in a query.
    return f"{base}?{urlencode(params, quote_via=quote, safe='/:')}"


def _utc(moment: datetime, pattern: str) -> str:
    return moment.astimezone(UTC).strftime(pattern)


def google_calendar_url(session: Session, clinic: ClinicDetails) -> str:
    """Google Calendar's "new event" page with the session filled in."""
    text = event_text(session, clinic, treatment=False)
    start, end = (_utc(t, "%Y%m%dT%H%M%SZ") for t in (session.start, session.end))
    return _link(
        "https://calendar.google.com/calendar/render",
        {
            "action": "TEMPLATE",
            "text": text.title,
            "dates": f"{start}/{end}",
            "details": text.description,
            "location": text.location,
        },
    )


def outlook_calendar_url(session: Session, clinic: ClinicDetails) -> str:
    """Outlook on the web's "new event" page with the session filled in."""
    text = event_text(session, clinic, treatment=False)
    return _link(
        "https://outlook.live.com/calendar/0/action/compose",
        {
            "rru": "addevent",
            "subject": text.title,
            "startdt": _utc(session.start, "%Y-%m-%dT%H:%M:%SZ"),
            "enddt": _utc(session.end, "%Y-%m-%dT%H:%M:%SZ"),
            "body": text.description,
            "location": text.location,
        },
    )
