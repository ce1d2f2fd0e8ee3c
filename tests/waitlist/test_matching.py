"""Which waiting patient freed time goes to, and when it goes to nobody.

The clinic's day used throughout: Wednesday 3 June, the practitioner fully
booked by five other patients (tests/waitlist/helpers.py full_day), the clock
at Monday 1 June 08:00. Every kind of freed time (a cancellation, a move, time
off removed or shortened, hours extended, a closure removed, an offer let go)
is held for the first waiting patient it suits; an entry that no longer fits
gets nothing and the next one gets the time.
"""

from datetime import date, time, timedelta

import pytest
import time_machine
from django.urls import reverse

from booking import services
from booking.attendance import session_mark_arrived, session_mark_attended, session_mark_no_show
from booking.availability import Slot
from booking.models import (
    ClinicClosure,
    FreedTime,
    Offer,
    Session,
    TimeOff,
    WaitlistEntry,
    WaitlistSettings,
    WorkingHours,
)
from booking.time_off import time_off_add
from booking.waitlist import matching
from booking.waitlist import services as waitlist
from booking.waitlist.models import AFTERNOON, EVENING, EVERY_DAY
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book
from tests.waitlist.conftest import NOW, join
from tests.waitlist.helpers import full_day, joined, live_offer, offers_to, send_offers

pytestmark = pytest.mark.django_db
WEDNESDAY = 1 << 2
JUNE_3 = (date(2026, 6, 3), date(2026, 6, 3))


def sweep(now=NOW):
    return waitlist.waitlist_sweep(now=now)


def wait_settings(**fields):
    config = WaitlistSettings.current()
    for name, value in fields.items():
        setattr(config, name, value)
    config.save()


@pytest.fixture
def day(now, treatment, practitioner):
    return full_day(treatment, practitioner)


@pytest.fixture
def staff(db):
    return UserFactory(email="desk@clinic.example", is_staff=True)


@pytest.fixture
def peel(db):
    """A second treatment, with a practitioner of its own."""
    treatment = TreatmentFactory(name="Peel", slug="peel", treatment_minutes=45, numbing_minutes=0)
    return treatment, PractitionerFactory(treatments=[treatment])


def slot(start, practitioner, minutes=75):
    return Slot(start, start + timedelta(minutes=minutes), practitioner.pk)


# --- every kind of freed time --------------------------------------------------------


def test_a_cancelled_time_is_offered_to_the_first_patient_waiting(day, treatment, practitioner):
    first, second = PatientFactory(), PatientFactory()
    joined(1, second, treatment)
    joined(2, first, treatment)
    services.session_cancel(session=day["10:30"], now=NOW)
    assert sweep()["offered"] == 1
    offer = live_offer(first)
    assert offer.hold.start == at(6, 3, 10, 30) and offer.hold.practitioner == practitioner
    assert offer.cause == "A session was cancelled"
    assert not offers_to(second)


def test_the_time_a_session_moved_away_from_is_offered(day, treatment):
    waiting = PatientFactory()
    join(waiting, treatment)
    services.session_move(session=day["10:30"], new_start=at(6, 4, 10, 30), now=NOW)
    sweep()
    offer = live_offer(waiting)
    assert offer.hold.start == at(6, 3, 10, 30) and offer.cause == "A session was moved"


def test_time_off_removed_is_offered(now, treatment, practitioner):
    for hour, minute in [(9, 0), (12, 0), (13, 30), (15, 0)]:
        book(PatientFactory(), treatment, practitioner, [at(6, 3, hour, minute)])
    off = TimeOff.objects.create(
        practitioner=practitioner, start=at(6, 3, 10, 30), end=at(6, 3, 11, 45)
    )
    waiting = PatientFactory()
    join(waiting, treatment, days=JUNE_3)
    assert sweep()["offered"] == 0  # nothing has come free yet
    off.delete()
    sweep()
    assert live_offer(waiting).hold.start == at(6, 3, 10, 30)


def test_time_off_shortened_offers_the_time_it_no_longer_covers(
    now, treatment, practitioner, staff
):
    book(PatientFactory(), treatment, practitioner, [at(6, 3, 9)])
    off = TimeOff.objects.create(
        practitioner=practitioner, start=at(6, 3, 10, 30), end=at(6, 3, 17)
    )
    waiting = PatientFactory()
    join(waiting, treatment, days=JUNE_3)
    time_off_add(
        practitioner=practitioner,
        start=at(6, 3, 13),
        end=at(6, 3, 17),
        resolutions={},
        replacing=off,
        now=NOW,
        by=staff,
    )
    sweep()
    # Noted whole (10:30 to 17:00); only what is really free is offered, nearest its start.
    assert live_offer(waiting).hold.start == at(6, 3, 10, 30)


def test_hours_extended_into_the_evening_are_offered(now, treatment, practitioner):
    waiting = PatientFactory()
    join(waiting, treatment, parts_of_day=EVENING)
    assert sweep()["offered"] == 0
    wednesday = practitioner.working_hours.get(weekday=2)
    wednesday.end = time(19)
    wednesday.save()
    sweep()
    assert live_offer(waiting).hold.start == at(6, 3, 17)


def test_a_new_working_day_is_offered(now, treatment, practitioner):
    practitioner.working_hours.filter(weekday=2).delete()
    waiting = PatientFactory()
    join(waiting, treatment, weekdays=WEDNESDAY)
    WorkingHours.objects.create(practitioner=practitioner, weekday=2, start=time(9), end=time(17))
    sweep()
    assert live_offer(waiting).hold.start == at(6, 3, 9)


def test_a_closure_removed_is_offered_with_any_practitioner(now, treatment, practitioner):
    closure = ClinicClosure.objects.create(date=date(2026, 6, 3), name="Staff training")
    waiting = PatientFactory()
    join(waiting, treatment, days=JUNE_3)
    closure.delete()
    assert FreedTime.objects.get().practitioner is None
    sweep()
    assert live_offer(waiting).hold.start == at(6, 3, 9)


# --- the order, and the hand-on ------------------------------------------------------


def _decline(offer, staff):
    waitlist.offer_decline(offer=offer, now=NOW)
    return NOW


def _lapse(offer, staff):
    send_offers(NOW)  # the hold's clock starts when the email goes
    return NOW + WaitlistSettings.current().hold_for


def _withdraw(offer, staff):
    waitlist.offer_withdraw(offer=offer, by=staff, reason="Booked by phone instead.", now=NOW)
    return NOW


def _leave(offer, staff):
    waitlist.entry_leave(entry=offer.entry, now=NOW)
    return NOW


@pytest.mark.parametrize("let_go", [_decline, _lapse, _withdraw, _leave])
def test_a_time_let_go_goes_to_the_next_patient_in_the_order_they_joined(
    day, treatment, staff, let_go
):
    first, second, third = PatientFactory(), PatientFactory(), PatientFactory()
    for patient, hours_ago in [(third, 1), (first, 3), (second, 2)]:  # rows in another order
        joined(hours_ago, patient, treatment)
    services.session_cancel(session=day["10:30"], now=NOW)
    sweep()
    later = let_go(live_offer(first), staff)
    assert sweep(later)["offered"] == 1
    assert live_offer(second).hold.start == at(6, 3, 10, 30)
    assert not offers_to(third)
    # The first patient is never offered the time they let go again.
    assert not Offer.objects.live().filter(patient=first).exists()


@pytest.mark.parametrize("prefer_mid_course", [False, True])
def test_mid_course_patients_whose_window_closes_first_come_first_when_the_clinic_says(
    now, treatment, practitioner, prefer_mid_course
):
    """Off (the default): first joined first. On: an earlier time for a course's session
    whose window closes soonest first (17 June before 24 June), then first joined."""
    full_day(treatment, practitioner, 6, 10)
    before = at(5, 1, 8)
    later_window, sooner_window, new_course = PatientFactory(), PatientFactory(), PatientFactory()
    # Session 2 windows: 10 to 24 June (after 13 May) and 3 to 17 June (after 6 May).
    for patient, first, second, days, hours_ago in [
        (later_window, at(5, 13), at(6, 17), (date(2026, 6, 10), date(2026, 6, 16)), 2),
        (sooner_window, at(5, 6), at(6, 16), (date(2026, 6, 3), date(2026, 6, 15)), 1),
    ]:
        course = book(patient, treatment, practitioner, [first, second], now=before)
        joined(hours_ago, patient, treatment, session=course.sessions.get(number=2), days=days)
    joined(3, new_course, treatment)  # the first to join, the last row written
    wait_settings(prefer_mid_course=prefer_mid_course)
    services.session_cancel(session=Session.objects.get(start=at(6, 10, 10, 30)), now=NOW)
    sweep()
    (offer,) = Offer.objects.all()
    assert offer.patient == (sooner_window if prefer_mid_course else new_course)
    assert offer.hold.start == at(6, 10, 10, 30)


# --- entries that no longer fit get none ----------------------------------------------


def _other_dates(treatment, **_):
    patient = PatientFactory()
    join(patient, treatment, days=(date(2026, 6, 4), date(2026, 6, 30)))
    return patient


def _other_days(treatment, **_):
    patient = PatientFactory()
    join(patient, treatment, weekdays=EVERY_DAY & ~WEDNESDAY)
    return patient


def _afternoons(treatment, **_):
    patient = PatientFactory()
    join(patient, treatment, parts_of_day=AFTERNOON | EVENING)
    return patient


def _another_practitioner(treatment, **_):
    patient = PatientFactory()
    join(patient, treatment, practitioner=PractitionerFactory(treatments=[treatment]))
    return patient


def _left(treatment, **_):
    patient = PatientFactory()
    waitlist.entry_leave(entry=join(patient, treatment))
    return patient


def _busy_then(treatment, peel, **_):
    patient = PatientFactory()
    book(patient, peel[0], peel[1], [at(6, 3, 11)])  # a peel from 11:00
    join(patient, treatment)
    return patient


def _booked_a_course_since(treatment, practitioner, **_):
    patient = PatientFactory()
    join(patient, treatment)
    book(patient, treatment, practitioner, [at(6, 17)])  # one open course at a time
    return patient


def _too_soon_after_the_last_session(treatment, practitioner, **_):
    patient = PatientFactory()
    (last,) = book(patient, treatment, practitioner, [at(5, 20)], now=at(5, 1, 8)).sessions.all()
    session_mark_attended(session=last, by=None, now=at(5, 20, 10))
    join(patient, treatment)  # a new course may start 28 days after 20 May: 17 June
    return patient


def _holding_another_offer(treatment, practitioner, staff, **_):
    patient = PatientFactory()
    entry = join(patient, treatment)
    waitlist.offer_make(entry=entry, slot=slot(at(6, 10, 10), practitioner), now=NOW, by=staff)
    return patient


def _had_todays_offers(treatment, peel, staff, **_):
    patient = PatientFactory()
    peel_entry = join(patient, peel[0])
    offer = waitlist.offer_make(
        entry=peel_entry, slot=slot(at(6, 10, 10), peel[1], 45), now=NOW, by=staff
    )
    waitlist.offer_decline(offer=offer, now=NOW)
    wait_settings(offers_per_day=1)
    join(patient, treatment)
    return patient


def _course_kept_later_sessions_in_their_windows(treatment, practitioner, **_):
    """Session 1 on 17 June may move as early as 3 June while session 2 is on 15 July; then
    session 2 moves to 22 July, and 3 June would leave it 49 days after (42 at most)."""
    patient = PatientFactory()
    first, second = book(patient, treatment, practitioner, [at(6, 17), at(7, 15)]).sessions.all()
    join(patient, treatment, session=first, days=(date(2026, 6, 3), date(2026, 6, 16)))
    services.session_move(session=second, new_start=at(7, 22), now=NOW)
    return patient


@pytest.mark.parametrize(
    "misfit",
    [
        _other_dates,
        _other_days,
        _afternoons,
        _another_practitioner,
        _left,
        _busy_then,
        _booked_a_course_since,
        _too_soon_after_the_last_session,
        _holding_another_offer,
        _had_todays_offers,
        _course_kept_later_sessions_in_their_windows,
    ],
)
def test_an_entry_that_does_not_fit_is_passed_over_for_the_next(
    day, treatment, practitioner, peel, staff, misfit
):
    with time_machine.travel(NOW - timedelta(hours=1), tick=False):  # joined first
        passed_over = misfit(treatment=treatment, practitioner=practitioner, peel=peel, staff=staff)
    fits = PatientFactory()
    join(fits, treatment)
    services.session_cancel(session=day["10:30"], now=NOW)
    sweep()
    assert live_offer(fits).hold.start == at(6, 3, 10, 30)
    assert not [o for o in offers_to(passed_over) if o.hold.start == at(6, 3, 10, 30)]


def test_entries_whose_dates_have_passed_end(now, treatment):
    patient = PatientFactory()
    entry = join(patient, treatment, days=(date(2026, 6, 2), date(2026, 6, 5)))
    assert sweep(at(6, 5, 23))["expired"] == 0
    assert sweep(at(6, 6, 0, 1))["expired"] == 1
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.ENDED
    assert entry.ended_reason == "Its dates have passed."


class TestCourseRules:
    """The rules an offered time must keep for the patient's course (matching.course_refusal),
    where the entry's own dates cannot say it: they were set when the patient joined."""

    @pytest.fixture
    def waiting(self, now, patient, treatment, practitioner):
        """Waiting for an earlier time for session 2 (1 July; session 1 on 27 May, so its
        window is 24 June to 8 July)."""
        course = book(patient, treatment, practitioner, [at(5, 27), at(7, 1)], now=at(5, 1, 8))
        return join(
            patient,
            treatment,
            session=course.sessions.get(number=2),
            days=(date(2026, 6, 24), date(2026, 6, 30)),
        )

    def refusal(self, entry, start, now=NOW):
        entry = WaitlistEntry.objects.select_related("session", "treatment", "patient").get(
            pk=entry.pk
        )
        return matching.course_refusal(entry, slot(start, entry.session.practitioner), now)

    def test_a_time_inside_the_window_is_fine(self, waiting):
        assert self.refusal(waiting, at(6, 26)) == ""

    def test_not_outside_the_window_after_the_session_before(self, waiting):
        assert "between 24 June and 8 July 2026" in self.refusal(waiting, at(6, 23))

    def test_not_the_same_time_or_later(self, waiting):
        assert self.refusal(waiting, at(7, 1)) == "Not earlier than the session."
        assert self.refusal(waiting, at(7, 1, 14)) == "Not earlier than the session."

    def test_not_inside_the_minimum_notice(self, waiting):
        assert self.refusal(waiting, at(6, 30, 9), now=at(6, 29, 10)) == (
            "Inside the minimum notice."
        )

    def test_not_once_the_session_is_inside_the_change_notice(self, waiting):
        assert "Please call us" in self.refusal(waiting, at(6, 30, 15), now=at(6, 29, 11))

    def test_a_first_session_keeps_the_notice_and_the_horizon(self, now, treatment, practitioner):
        entry = join(PatientFactory(), treatment)
        assert "at least 24 hours" in matching.course_refusal(
            entry, slot(at(6, 2, 7), practitioner), NOW
        )
        assert "within 12 weeks" in matching.course_refusal(
            entry, slot(at(8, 25), practitioner), NOW
        )


# --- one live offer per patient, a few a day, paused ------------------------------------


def test_two_times_freed_at_once_go_to_two_patients(day, treatment, practitioner, peel):
    """The first patient waits for two treatments: they get one of the two times, the next
    patient the other."""
    practitioner.treatments.add(peel[0])
    first, second = PatientFactory(), PatientFactory()
    joined(2, second, treatment)
    joined(3, first, treatment)
    joined(3, first, peel[0])
    services.session_cancel(session=day["10:30"], now=NOW)
    services.session_cancel(session=day["13:30"], now=NOW)
    assert sweep()["offered"] == 2
    assert live_offer(first).hold.start == at(6, 3, 10, 30)
    assert live_offer(second).hold.start == at(6, 3, 13, 30)


def test_no_more_offers_a_day_than_the_clinic_allows(day, treatment):
    wait_settings(offers_per_day=1)
    first, second, third = PatientFactory(), PatientFactory(), PatientFactory()
    for hours_ago, patient in enumerate((third, second, first), start=1):
        joined(hours_ago, patient, treatment)
    services.session_cancel(session=day["09:00"], now=NOW)
    sweep()
    waitlist.offer_decline(offer=live_offer(first), now=NOW)
    sweep()  # 09:00 goes to the second
    services.session_cancel(session=day["12:00"], now=NOW)
    sweep()  # the first had today's one: 12:00 goes to the third
    assert [o.hold.start for o in offers_to(third)] == [at(6, 3, 12)]
    assert len(offers_to(first)) == 1
    tomorrow = at(6, 2, 8)
    with time_machine.travel(tomorrow, tick=False):
        services.session_cancel(session=day["15:00"], now=tomorrow, by_staff=True)
        sweep(tomorrow)
    assert live_offer(first).hold.start == at(6, 3, 15)


def test_while_paused_freed_time_waits_and_staff_can_still_offer_by_hand(
    day, treatment, practitioner, staff
):
    first, second = PatientFactory(), PatientFactory()
    second_entry = joined(1, second, treatment)
    joined(2, first, treatment)
    wait_settings(paused=True)
    services.session_cancel(session=day["10:30"], now=NOW)
    assert sweep()["offered"] == 0
    assert FreedTime.objects.filter(matched_at__isnull=True).exists()
    by_hand = waitlist.offer_make(
        entry=second_entry, slot=slot(at(6, 3, 10, 30), practitioner), now=NOW, by=staff
    )
    assert by_hand.offered_by == staff and by_hand.is_live
    wait_settings(paused=False)
    sweep()  # the time is held already: nothing more to offer
    assert not offers_to(first)
    waitlist.offer_decline(offer=by_hand, now=NOW)
    sweep()
    assert live_offer(first).hold.start == at(6, 3, 10, 30)


# --- an entry ends with its session, and its live offer is handed on ----------------------


def _patient_cancels(session, **_):
    services.session_cancel(session=session, now=NOW)


def _staff_cancel(session, **_):
    services.session_cancel(session=session, now=NOW, by_staff=True)


def _patient_cancels_the_course(session, **_):
    services.course_cancel(course=session.course, now=NOW)


def _patient_moves(session, **_):
    services.session_move(session=session, new_start=at(6, 25), now=NOW)


def _staff_move(session, **_):
    services.session_move(session=session, new_start=at(6, 25, 14), now=NOW, by_staff=True)


def _handed_over_for_time_off(session, staff, **_):
    colleague = PractitionerFactory(treatments=[session.course.treatment])
    time_off_add(
        practitioner=session.practitioner,
        start=at(6, 24, 9),
        end=at(6, 24, 17),
        resolutions={session.pk: colleague.pk},
        now=NOW,
        by=staff,
    )


def _cancelled_on_my_appointments(session, client, **_):
    client.force_login(session.patient.user)
    response = client.post(reverse("booking:session_cancel", args=[session.pk]))
    assert response.status_code == 302


@pytest.mark.parametrize(
    "change",
    [
        _patient_cancels,
        _staff_cancel,
        _patient_cancels_the_course,
        _patient_moves,
        _staff_move,
        _handed_over_for_time_off,
        _cancelled_on_my_appointments,
    ],
)
def test_an_entry_ends_with_its_session_and_its_offer_goes_to_the_next(
    day, treatment, practitioner, staff, client, change
):
    patient, next_one = PatientFactory(), PatientFactory()
    (mine,) = book(patient, treatment, practitioner, [at(6, 24)]).sessions.all()
    joined(1, next_one, treatment, days=(date(2026, 6, 2), date(2026, 6, 10)))
    entry = joined(2, patient, treatment, session=mine, days=(date(2026, 6, 2), date(2026, 6, 23)))
    services.session_cancel(session=day["10:30"], now=NOW)
    sweep()
    offer = live_offer(patient)
    change(session=mine, staff=staff, client=client)
    entry.refresh_from_db()
    offer.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.ENDED
    assert offer.status == Offer.Status.WITHDRAWN
    assert Session.with_holds.get(pk=offer.hold_id).status == Session.Status.CANCELLED
    sweep()
    assert live_offer(next_one).hold.start == at(6, 3, 10, 30)


@pytest.mark.parametrize(
    "mark, when, reason",
    [
        (session_mark_arrived, at(6, 10, 9, 50), "Marked arrived."),
        (session_mark_attended, at(6, 10, 9, 55), "Marked attended."),
        (session_mark_no_show, at(6, 10, 10, 20), "Marked no-show."),
    ],
)
def test_an_entry_ends_when_its_session_is_marked(
    now, patient, treatment, practitioner, staff, mark, when, reason
):
    (mine,) = book(patient, treatment, practitioner, [at(6, 10)]).sessions.all()
    entry = join(patient, treatment, session=mine, days=(date(2026, 6, 2), date(2026, 6, 9)))
    with time_machine.travel(when, tick=False):
        mark(session=mine, by=staff, now=when)
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.ENDED and entry.ended_reason == reason
