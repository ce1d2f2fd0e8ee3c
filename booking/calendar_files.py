"""iCalendar (.ics) files: one VEVENT per session, a stable UID, a rising SEQUENCE.

Calendar apps match events by UID and keep the copy with the highest
SEQUENCE, so a moved session replaces the old entry and a cancelled one
(METHOD:CANCEL, STATUS:CANCELLED) removes it. RFC 5545 / RFC 5546.
"""

from collections.abc import Iterable
from datetime import date
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext
from icalendar import Calendar, Event, Timezone, vCalAddress, vText

from clinic.models import ClinicDetails

from .models import Session

PRODID = "-//Clinic booking//clinic app//EN"


def session_uid(session: Session) -> str:
    host = urlsplit(settings.SITE_URL).hostname or "clinic.localhost"
    return f"session-{session.pk}@{host}"


def _event(session: Session, clinic: ClinicDetails, stamp) -> Event:
    event = Event()
    course = session.course
    event.add("uid", session_uid(session))
    event.add("sequence", session.sequence)
    event.add("dtstamp", stamp)
    zone = ZoneInfo(settings.TIME_ZONE)  # local times with TZID, so calendars show wall time
    event.add("dtstart", session.start.astimezone(zone))
    event.add("dtend", session.end.astimezone(zone))
    event.add(
        "summary",
        gettext("%(treatment)s: session %(number)d of %(planned)d at %(clinic)s")
        % {
            "treatment": course.treatment.name,
            "number": session.number,
            "planned": course.sessions_planned,
            "clinic": clinic.name,
        },
    )
    event.add("location", vText(", ".join([clinic.name, *clinic.address_lines])))
    event.add(
        "description",
        gettext("With %(practitioner)s. To change or cancel, go to %(url)s or call %(phone)s.")
        % {
            "practitioner": session.practitioner.display_name,
            "url": f"{settings.SITE_URL}/appointments/",
            "phone": clinic.phone,
        },
    )
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
        # The clinic zone's rules around these sessions (the whole 1970-2038 range by
        # default costs ~2 ms a file, for nothing a calendar app uses).
        years = [s.start.year for s in sessions]
        calendar.add_component(
            Timezone.from_tzid(
                settings.TIME_ZONE,
                first_date=date(min(years) - 1, 1, 1),
                last_date=date(max(years) + 1, 12, 31),
            )
        )
    for session in sessions:
        calendar.add_component(_event(session, clinic, stamp))
    return calendar.to_ical()
