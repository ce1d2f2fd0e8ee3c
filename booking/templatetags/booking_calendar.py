"""A session's "add to calendar" links, for pages and emails.

    {% calendar_links session %}              the .ics, Google and Outlook links (a page)
    {% calendar_links session ics=False %}    Google and Outlook only
    {% google_calendar_url session as url %}  one URL, for an email's own markup
    {% outlook_calendar_url session as url %}

The clinic's details come from the template's `clinic` (the context processor,
or the email's context), else ClinicDetails.current().
"""

from django import template

from clinic.models import ClinicDetails

from .. import calendar_files

register = template.Library()


def _clinic(context) -> ClinicDetails:
    return context.get("clinic") or ClinicDetails.current()


@register.simple_tag(takes_context=True)
def google_calendar_url(context, session) -> str:
    return calendar_files.google_calendar_url(session, _clinic(context))


@register.simple_tag(takes_context=True)
def outlook_calendar_url(context, session) -> str:
    return calendar_files.outlook_calendar_url(session, _clinic(context))


@register.inclusion_tag("booking/includes/calendar_links.html", takes_context=True)
def calendar_links(context, session, ics: bool = True) -> dict:
    clinic = _clinic(context)
    return {
        "session": session,
        "ics": ics,
        "google_url": calendar_files.google_calendar_url(session, clinic),
        "outlook_url": calendar_files.outlook_calendar_url(session, clinic),
    }
