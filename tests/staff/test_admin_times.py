"""The admin writes times on the 24-hour clock, as the clinic's own pages do (clinic/formats/)."""

import time_machine
from django.urls import reverse
from django.utils import formats

from tests.booking.factories import SessionFactory
from tests.helpers import at


def test_the_locale_formats_carry_24_hour_times():
    moment = at(6, 3, 21, 8)
    assert formats.date_format(moment, "DATETIME_FORMAT") == "3 Jun 2026, 21:08"
    assert formats.date_format(moment, "SHORT_DATETIME_FORMAT") == "03/06/2026 21:08"
    assert formats.time_format(moment.time(), "TIME_FORMAT") == "21:08"
    assert formats.date_format(moment, "DATE_FORMAT") == "3 Jun 2026"  # dates as en-gb writes them


def test_a_changelist_and_a_history_page_show_14_05_not_2_05_pm(client_for, reception, now):
    with time_machine.travel(at(6, 1, 21, 8), tick=False):  # its history row: 21:08
        session = SessionFactory(start=at(6, 3, 14, 5))
    client = client_for(reception)

    listed = client.get(reverse("admin:booking_session_changelist")).content.decode()
    assert "3 Jun 2026, 14:05" in listed
    assert "p.m." not in listed and "a.m." not in listed

    history = client.get(reverse("admin:booking_session_history", args=[session.pk]))
    assert "1 Jun 2026, 21:08" in history.content.decode()
    assert "p.m." not in history.content.decode()
