"""How long an offer holds its time, in process with an explicit `now` (a worker process's
clock cannot be moved): the hold lapses at its time and the next patient gets it; an offer
made in quiet hours is sent at 08:00 and held from then; a hold never runs past the booking
notice; and all of it in real hours across both of London's clock changes.
"""

from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine

from booking import services
from booking.models import Offer, Reminder, Session, WaitlistSettings
from booking.waitlist import services as waitlist
from tests.booking.factories import PatientFactory
from tests.helpers import LONDON, at
from tests.waitlist.conftest import NOW, join
from tests.waitlist.helpers import full_day, joined, live_offer, offers_to, send_offers

pytestmark = pytest.mark.django_db
TWO_HOURS = timedelta(hours=2)
SECOND = timedelta(seconds=1)


def sweep(now):
    return waitlist.waitlist_sweep(now=now)


def offer_email(offer) -> Reminder:
    return Reminder.objects.get(session_id=offer.hold_id, kind=Reminder.Kind.OFFER)


def held_until(offer) -> datetime:
    return Session.with_holds.get(pk=offer.hold_id).held_until


@pytest.fixture
def two_waiting(now, treatment, practitioner):
    """Wednesday 3 June fully booked; two patients wait (the first joined first)."""
    day = full_day(treatment, practitioner)
    first, second = PatientFactory(), PatientFactory()
    joined(2, first, treatment)
    joined(1, second, treatment)
    return day, first, second


def test_a_hold_lapses_at_its_time_and_goes_to_the_next_patient(two_waiting):
    day, first, second = two_waiting
    services.session_cancel(session=day["10:30"], now=NOW)
    sweep(NOW)
    assert send_offers(NOW) == ["sent"]
    offer = live_offer(first)
    assert held_until(offer) == NOW + TWO_HOURS
    assert sweep(NOW + TWO_HOURS - SECOND)["lapsed"] == 0
    assert sweep(NOW + TWO_HOURS) == {"expired": 0, "lapsed": 1, "offered": 1}
    offer.refresh_from_db()
    assert offer.status == Offer.Status.LAPSED
    handed_on = live_offer(second)
    assert handed_on.hold.start == at(6, 3, 10, 30)
    assert send_offers(NOW + TWO_HOURS) == ["sent"]
    assert held_until(handed_on) == NOW + 2 * TWO_HOURS


def test_an_offer_made_in_quiet_hours_is_sent_at_eight_and_held_from_then(two_waiting):
    day, first, _second = two_waiting
    services.session_cancel(session=day["10:30"], now=NOW)
    late = at(6, 1, 22, 30)
    sweep(late)
    offer = live_offer(first)
    assert offer_email(offer).due_at == at(6, 2, 8)
    assert send_offers(at(6, 1, 22, 31)) == []  # nothing goes out at night
    assert sweep(at(6, 2, 7, 59))["lapsed"] == 0
    assert send_offers(at(6, 2, 8)) == ["sent"]
    assert held_until(offer) == at(6, 2, 10)  # two hours from 08:00, not from 22:30
    assert sweep(at(6, 2, 9, 59))["lapsed"] == 0
    assert sweep(at(6, 2, 10))["lapsed"] == 1


def test_an_offer_whose_email_waits_for_the_morning_keeps_its_time_until_sent(two_waiting):
    """Made at 20:55, its email reached only at 21:05 (quiet): the hold outlives the two
    hours counted from 20:55, then runs its full two hours from 08:00."""
    day, first, _second = two_waiting
    services.session_cancel(session=day["10:30"], now=NOW)
    sweep(at(6, 1, 20, 55))
    offer = live_offer(first)
    assert send_offers(at(6, 1, 21, 5)) == ["deferred"]
    assert offer_email(offer).due_at == at(6, 2, 8)
    assert sweep(at(6, 1, 23))["lapsed"] == 0
    assert sweep(at(6, 2, 7, 59))["lapsed"] == 0
    assert send_offers(at(6, 2, 8)) == ["sent"]
    assert held_until(offer) == at(6, 2, 10)


@pytest.mark.parametrize(
    "offered_at, sent_at, start, until",
    [
        # Made at 09:00 for 10:30 tomorrow: held until 10:30 today, the 24 hours' notice.
        (at(6, 2, 9), at(6, 2, 9), (6, 3, 10, 30), at(6, 2, 10, 30)),
        # Made at 22:30 for 09:00 the day after tomorrow: sent at 08:00, held an hour.
        (at(6, 1, 22, 30), at(6, 2, 8), (6, 3, 9, 0), at(6, 2, 9)),
    ],
)
def test_a_hold_never_runs_past_the_booking_notice(two_waiting, offered_at, sent_at, start, until):
    day, first, _second = two_waiting
    freed = day[f"{start[2]:02d}:{start[3]:02d}"]
    services.session_cancel(session=freed, now=NOW)
    sweep(offered_at)
    offer = live_offer(first)
    assert offer.hold.start == at(*start)
    assert held_until(offer) == until
    assert send_offers(sent_at) == ["sent"]
    assert held_until(offer) == until
    assert sweep(until)["lapsed"] == 1


def test_a_time_too_close_to_answer_for_is_not_offered(two_waiting):
    """10:30 tomorrow, at 10:20 today: ten minutes before the 24 hours' notice closes."""
    day, first, _second = two_waiting
    services.session_cancel(session=day["10:30"], now=NOW)
    assert sweep(at(6, 2, 10, 20))["offered"] == 0
    assert not offers_to(first)


def test_an_email_that_could_not_go_until_too_late_lets_the_time_go(two_waiting):
    """Made at 22:30 for 09:00 the day after tomorrow; the mail server was down until 08:50,
    ten minutes before the notice closes: no email, and the hold lapses at once."""
    day, first, second = two_waiting
    services.session_cancel(session=day["09:00"], now=NOW)
    sweep(at(6, 1, 22, 30))
    offer = live_offer(first)
    assert send_offers(at(6, 2, 8, 50)) == ["skipped"]
    assert sweep(at(6, 2, 8, 50))["lapsed"] == 1
    offer.refresh_from_db()
    assert offer.status == Offer.Status.LAPSED
    assert not offers_to(second)  # nor is the time offered again: too close now


def test_a_hold_of_a_few_seconds(two_waiting):
    """The clinic may set a hold in seconds (its setting allows one second and more)."""
    day, first, second = two_waiting
    config = WaitlistSettings.current()
    config.hold_for = timedelta(seconds=5)
    config.save()
    services.session_cancel(session=day["10:30"], now=NOW)
    assert sweep(NOW)["offered"] == 1
    assert send_offers(NOW) == ["sent"]
    assert held_until(live_offer(first)) == NOW + timedelta(seconds=5)
    assert sweep(NOW + timedelta(seconds=5)) == {"expired": 0, "lapsed": 1, "offered": 1}
    assert live_offer(second).hold.start == at(6, 3, 10, 30)


# --- across the clock changes -----------------------------------------------------------

# (when the clinic's week is set up, the Monday booked full, an offer made at 21:30 on the
# Saturday night before the change, and 08:00 on the Sunday in UTC)
OCTOBER = (at(10, 19, 8), (10, 26), at(10, 24, 21, 30), datetime(2026, 10, 25, 8, tzinfo=UTC))
MARCH = (at(3, 20, 8), (3, 30), at(3, 28, 21, 30), datetime(2026, 3, 29, 7, tzinfo=UTC))


@pytest.mark.parametrize("week, monday, late, eight", [OCTOBER, MARCH], ids=["october", "march"])
def test_quiet_hours_and_the_hold_across_a_clock_change(
    treatment, practitioner, week, monday, late, eight
):
    with time_machine.travel(week, tick=False):
        day = full_day(treatment, practitioner, *monday)
        first, second = PatientFactory(), PatientFactory()
        days = (week.date() + timedelta(days=2), date(2026, monday[0], monday[1]))
        join(first, treatment, days=days)
        join(second, treatment, days=days)
        services.session_cancel(session=day["10:30"], now=week)
    sweep(late)
    offer = live_offer(first)
    # Sent at 08:00 on the Sunday, clinic time: after the change.
    assert offer_email(offer).due_at == eight
    assert eight.astimezone(LONDON).hour == 8
    assert send_offers(eight - timedelta(minutes=1)) == []
    assert send_offers(eight) == ["sent"]
    # Held for exactly two real hours from then, lapsing at that instant.
    assert held_until(offer) == eight + TWO_HOURS
    assert sweep(eight + TWO_HOURS - SECOND)["lapsed"] == 0
    assert sweep(eight + TWO_HOURS) == {"expired": 0, "lapsed": 1, "offered": 1}
    handed_on = live_offer(second)
    assert offer_email(handed_on).due_at == eight + TWO_HOURS  # 10:00: not quiet, sent at once


@pytest.mark.parametrize(
    "offered_at, sent_at",
    [
        (at(10, 24, 10), at(10, 24, 10)),  # Saturday 10:00 BST, sent at once
        (at(10, 23, 22, 30), at(10, 24, 8)),  # Friday night, sent at 08:00 BST on Saturday
    ],
)
def test_a_day_long_hold_over_the_october_change_is_24_real_hours(
    treatment, practitioner, offered_at, sent_at
):
    week = at(10, 19, 8)
    with time_machine.travel(week, tick=False):
        config = WaitlistSettings.current()
        config.hold_for = timedelta(days=1)
        config.save()
        day = full_day(treatment, practitioner, 10, 26)
        patient = PatientFactory()
        join(patient, treatment, days=(date(2026, 10, 21), date(2026, 10, 30)))
        services.session_cancel(session=day["10:30"], now=week)
    sweep(offered_at)
    offer = live_offer(patient)
    real_day = sent_at.astimezone(UTC) + timedelta(hours=24)
    assert held_until(offer) == real_day  # as the offer waits to be sent, too
    send_offers(sent_at)
    assert held_until(offer) == real_day
    # The clocks went back an hour in between: on the wall, an hour earlier the next day.
    assert held_until(offer).astimezone(LONDON).hour == sent_at.hour - 1
