"""The clinic's move and cancel rules, as one piece for pages and emails.

    {% load booking_rules %}
    {% change_rules sessions=3 %}        the HTML piece (booking/includes/change_rules.html)
    {% change_rules_text sessions=3 %}   the same sentences for an email's text part

`sessions`: how many sessions the booking has (a course's sentences need more than one).

The sentences come from the rulebook (booking.rulebook.change_rules), with the
clinic's current rules and phone number.
"""

from django import template

from clinic.models import ClinicDetails

from .. import rulebook
from ..models import BookingRules

register = template.Library()


def _sentences(sessions) -> list[str]:
    return rulebook.change_rules(
        BookingRules.current(),
        phone=ClinicDetails.current().phone,
        course_of_sessions=int(sessions or 0) > 1,
    )


@register.inclusion_tag("booking/includes/change_rules.html")
def change_rules(sessions=1):
    return {"sentences": _sentences(sessions)}


@register.inclusion_tag("booking/includes/change_rules.txt")
def change_rules_text(sessions=1):
    return {"sentences": _sentences(sessions)}
