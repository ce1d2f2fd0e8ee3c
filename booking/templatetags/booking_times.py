"""How a session's or a slot's time reads (booking/times.py), as template filters:

{% load booking_times %}
{{ session|when }}     Tuesday 8 December 2026, 10:00 to 10:45
{{ session|span }}     10:00 to 10:45
{{ session|day }}      Tuesday 8 December 2026
"""

from django import template

from .. import times

register = template.Library()
register.filter("day", times.day)
register.filter("span", times.span)
register.filter("when", times.when)
