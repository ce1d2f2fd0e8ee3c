"""Offers under load: threads race on real PostgreSQL, each with its own connection.

Two accepts of one offer, an accept against reception booking the held time, an accept as
the hold lapses, sweeps at once (one of them offering a reopened day), and an accept against
the patient cancelling their session: each ends in exactly one consistent outcome, and every
thread that loses gets a refusal the pages show (BookingError, OfferEnded), never an error
that would be a 500 (an IntegrityError, or PostgreSQL ending a deadlock). A decline, a staff
withdrawal and leaving the waitlist meet an accept in a fixed order (one_after_another), so
the orders that once deadlocked are run every time, not by chance.
"""

import threading
import time
from datetime import date, timedelta

import pytest
from django.db import connection, transaction

from booking import services
from booking.availability import Slot
from booking.models import (
    ClinicClosure,
    ConsentText,
    Course,
    FreedTime,
    Offer,
    Session,
    WaitlistEntry,
)
from booking.services import BookingError
from booking.waitlist import services as waitlist
from tests.booking.factories import PatientFactory, PractitionerFactory, UserFactory, agreed
from tests.helpers import at, book
from tests.waitlist.conftest import NOW
from tests.waitlist.helpers import full_day, joined, live_offer, send_offers

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def race(*jobs) -> list:
    """Run each job in a thread of its own, released together; each one's result or the
    exception it raised, in the jobs' order."""
    barrier = threading.Barrier(len(jobs))
    outcomes: list = [None] * len(jobs)

    def run(n, job):
        try:
            barrier.wait()
            outcomes[n] = job()
        except Exception as exc:  # noqa: BLE001 - judged by the assertions
            outcomes[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes


def waiting_for_a_lock(*, seconds: float, waiting: int = 1) -> None:
    """Return once `waiting` other connections to the test database wait for a row lock."""
    deadline = time.monotonic() + seconds
    with connection.cursor() as cursor:
        while time.monotonic() < deadline:
            cursor.execute("SELECT pg_stat_clear_snapshot()")  # else one per transaction
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()"
                " AND wait_event_type = 'Lock' AND pid <> pg_backend_pid()"
            )
            if cursor.fetchone()[0] >= waiting:
                return
            time.sleep(0.05)
    raise AssertionError("nobody waited for a lock")


def one_after_another(offer, *jobs) -> list:
    """Each job queued in turn for the offer's row, which this thread holds meanwhile, then
    all let go at once: PostgreSQL gives the row to them in that order, whatever the
    machine's timing. Each job's result or the exception it raised."""
    outcomes: list = [None] * len(jobs)

    def run(n, job):
        try:
            outcomes[n] = job()
        except Exception as exc:  # noqa: BLE001 - judged by the assertions
            outcomes[n] = exc
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(n, job)) for n, job in enumerate(jobs)]
    with transaction.atomic():
        list(Offer.objects.select_for_update().filter(pk=offer.pk).values_list("pk"))
        for n, thread in enumerate(threads, start=1):
            thread.start()
            waiting_for_a_lock(seconds=30, waiting=n)
    for thread in threads:
        thread.join(timeout=60)
    assert not any(thread.is_alive() for thread in threads), "a thread is stuck"
    return outcomes


def refusals_only(outcomes, allowed=(BookingError,)) -> list:
    """The exceptions among `outcomes`, each one a refusal a page shows (a 500 otherwise)."""
    errors = [o for o in outcomes if isinstance(o, Exception)]
    assert all(isinstance(e, allowed) for e in errors), [repr(e) for e in errors]
    return errors


@pytest.fixture
def waiting(now, treatment, practitioner):
    """Wednesday 3 June fully booked, three patients waiting, then 10:30 cancelled and
    offered to the first."""
    agreed(treatment)  # the consent text
    day = full_day(treatment, practitioner)
    patients = [PatientFactory() for _ in range(3)]
    for hours_ago, patient in zip((3, 2, 1), patients, strict=True):
        joined(hours_ago, patient, treatment)
    services.session_cancel(session=day["10:30"], now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    send_offers(NOW)
    return day, patients


def accept(offer, now=NOW):
    """What the offer page's "Take this time" does for a first session."""
    plan = waitlist.first_course_plan(offer, now)
    later = [p.slot for p in plan[1:]]
    consent = ConsentText.current()
    return lambda: waitlist.offer_accept(offer=offer, now=now, later=later, consent=consent)


def booked_at(practitioner, start) -> list[Session]:
    return list(Session.objects.active().filter(practitioner=practitioner, start=start))


def test_accepts_of_one_offer_at_once_book_it_once(waiting, practitioner):
    _day, (first, *_rest) = waiting
    offer = live_offer(first)
    outcomes = race(*[accept(offer)] * 4)  # a double click, and the email opened twice
    refusals_only(outcomes, allowed=(waitlist.OfferEnded,))
    booked = {o.pk for o in outcomes if isinstance(o, Session)}
    assert len(booked) == 1
    (session,) = booked_at(practitioner, at(6, 3, 10, 30))
    assert session.pk in booked and session.patient == first
    assert Course.objects.filter(patient=first).count() == 1
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED and offer.booked == session


def test_accepts_of_an_earlier_time_at_once_move_the_session_once(now, treatment, practitioner):
    day = full_day(treatment, practitioner)
    patient = PatientFactory()
    (mine,) = book(patient, treatment, practitioner, [at(6, 24)]).sessions.all()
    joined(1, patient, treatment, session=mine, days=(date(2026, 6, 2), date(2026, 6, 23)))
    services.session_cancel(session=day["10:30"], now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    offer = live_offer(patient)
    outcomes = race(*[lambda: waitlist.offer_accept(offer=offer, now=NOW)] * 4)
    refusals_only(outcomes, allowed=(waitlist.OfferEnded,))
    assert {o.pk for o in outcomes if isinstance(o, Session)} == {mine.pk}
    mine.refresh_from_db()
    assert mine.start == at(6, 3, 10, 30) and mine.sequence == 1  # moved once
    assert Session.objects.filter(patient=patient).count() == 1


def test_an_accept_and_reception_booking_the_held_time_end_with_one_booking(
    waiting, treatment, practitioner
):
    _day, (first, *_rest) = waiting
    offer = live_offer(first)
    staff = UserFactory(email="desk@clinic.example", is_staff=True)
    held = Slot(offer.hold.start, offer.hold.end, practitioner.pk)

    def reception(patient):
        return lambda: services.course_book(
            patient=patient,
            treatment=treatment,
            slots=[held],
            now=NOW,
            booked_by=staff,
            consent=ConsentText.current(),
            consent_method=Course.ConsentMethod.PHONE,
            answers={q.pk: "no" for q in treatment.questions.all()},
        )

    callers = [PatientFactory() for _ in range(3)]
    outcomes = race(accept(offer), *[reception(p) for p in callers])
    assert len(refusals_only(outcomes[1:])) == 3  # the time is held, then booked
    assert isinstance(outcomes[0], Session)
    (session,) = booked_at(practitioner, at(6, 3, 10, 30))
    assert session.patient == first


def test_an_accept_as_the_hold_lapses_has_one_outcome(now, treatment, practitioner):
    """The accept at the hold's last millisecond against the sweep at its end, three times:
    booked (and nothing handed on), or lapsed (the accept told so, the time handed on)."""
    agreed(treatment)
    day = full_day(treatment, practitioner)
    for start in ("09:00", "12:00", "15:00"):
        patient = PatientFactory()  # each time its own patient: the only one waiting
        entry = joined(1, patient, treatment)
        services.session_cancel(session=day[start], now=NOW)
        waitlist.waitlist_sweep(now=NOW)
        send_offers(NOW)
        offer = live_offer(patient)
        until = offer.hold.held_until
        outcomes = race(
            accept(offer, until - timedelta(milliseconds=1)),
            lambda u=until: waitlist.waitlist_sweep(now=u),
        )
        refusals_only(outcomes, allowed=(waitlist.OfferEnded,))
        offer.refresh_from_db()
        hold = Session.with_holds.get(pk=offer.hold_id)
        booked = booked_at(practitioner, hold.start)
        assert hold.status == Session.Status.CANCELLED
        if offer.status == Offer.Status.ACCEPTED:
            assert isinstance(outcomes[0], Session) and outcomes[1]["lapsed"] == 0
            assert [s.patient for s in booked] == [patient]
        else:
            assert offer.status == Offer.Status.LAPSED
            assert isinstance(outcomes[0], waitlist.OfferEnded)
            assert not booked and not Course.objects.filter(patient=patient).exists()
            assert FreedTime.objects.filter(cause=FreedTime.Cause.LAPSED, start=hold.start)
        waitlist.entry_leave(entry=entry, now=NOW)  # not waiting for the next round's time


def test_sweeps_at_once_make_each_offer_once(now, treatment, practitioner):
    day = full_day(treatment, practitioner)
    patients = [PatientFactory() for _ in range(7)]
    for hours_ago, patient in enumerate(reversed(patients), start=1):
        joined(hours_ago, patient, treatment)
    for session in day.values():
        services.session_cancel(session=session, now=NOW)
    outcomes = race(*[lambda: waitlist.waitlist_sweep(now=NOW)] * 4)
    refusals_only(outcomes, allowed=())
    assert sum(o["offered"] for o in outcomes) == 5
    offers = list(Offer.objects.select_related("hold"))
    assert len(offers) == 5
    assert sorted(o.hold.start for o in offers) == sorted(s.start for s in day.values())
    assert len({o.patient_id for o in offers}) == 5
    assert not FreedTime.objects.filter(matched_at__isnull=True).exists()


def test_a_sweep_offering_a_reopened_day_and_another_offering_the_same_patient(now, treatment):
    """A closure removed frees every practitioner's day: one sweep offers it to several
    patients, with several practitioners, in one transaction. Meanwhile another sweep,
    offering one practitioner's freed time, holds that practitioner and reaches a patient
    the first sweep has just offered a time to. Neither waits for the other in a circle."""
    first_practitioner = PractitionerFactory(treatments=[treatment])
    second_practitioner = PractitionerFactory(treatments=[treatment])
    closure = ClinicClosure.objects.create(date=date(2026, 6, 3), name="Staff training")
    early, late, other = PatientFactory(), PatientFactory(), PatientFactory()
    early_entry = joined(3, early, treatment, practitioner=first_practitioner)  # as it was
    joined(2, late, treatment, practitioner=second_practitioner)
    other_entry = joined(1, other, treatment, days=(date(2026, 6, 4), date(2026, 6, 30)))
    closure.delete()
    holding = threading.Event()

    def second_sweep():
        """As a sweep offers the second practitioner's freed times: one patient after
        another, each offer in a savepoint of the one transaction, refusals passed over."""
        with transaction.atomic():
            waitlist.offer_make(
                entry=other_entry,
                slot=Slot(at(6, 4, 9), at(6, 4, 10, 15), second_practitioner.pk),
                now=NOW,
            )
            holding.set()
            waiting_for_a_lock(seconds=10)  # the first sweep, on this practitioner's row
            try:
                with transaction.atomic():
                    waitlist.offer_make(
                        entry=early_entry,
                        slot=Slot(at(6, 4, 11), at(6, 4, 12, 15), second_practitioner.pk),
                        now=NOW,
                    )
            except BookingError:
                pass

    def first_sweep():
        holding.wait(10)
        return waitlist.waitlist_sweep(now=NOW)

    outcomes = race(second_sweep, first_sweep)
    refusals_only(outcomes)
    live = {o.patient_id: o for o in Offer.objects.live().select_related("hold")}
    assert set(live) == {early.pk, late.pk, other.pk}


def test_an_accept_and_the_patient_cancelling_the_session_do_not_deadlock(
    now, treatment, practitioner
):
    day = full_day(treatment, practitioner)
    patient = PatientFactory()
    (mine,) = book(patient, treatment, practitioner, [at(6, 24)]).sessions.all()
    joined(1, patient, treatment, session=mine, days=(date(2026, 6, 2), date(2026, 6, 23)))
    services.session_cancel(session=day["10:30"], now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    offer = live_offer(patient)
    outcomes = race(
        lambda: waitlist.offer_accept(offer=offer, now=NOW),
        lambda: services.session_cancel(session=mine, now=NOW),
    )
    refusals_only(outcomes)
    offer.refresh_from_db()
    mine.refresh_from_db()
    assert mine.status == Session.Status.CANCELLED  # the cancellation always goes through
    if isinstance(outcomes[0], Session):  # accepted first: moved, then cancelled there
        assert offer.status == Offer.Status.ACCEPTED and mine.start == at(6, 3, 10, 30)
    else:
        assert offer.status == Offer.Status.WITHDRAWN and mine.start == at(6, 24)
    assert not booked_at(practitioner, at(6, 3, 10, 30))


def test_a_decline_and_an_accept_queued_behind_it(waiting, practitioner):
    """The decline takes the offer's row first and notes its time free, while the accept
    waits for that row holding the practitioner's: the decline must not wait for it."""
    _day, (first, *_rest) = waiting
    offer = live_offer(first)
    outcomes = one_after_another(
        offer, lambda: waitlist.offer_decline(offer=offer, now=NOW), accept(offer)
    )
    refusals_only(outcomes, allowed=(waitlist.OfferEnded,))
    assert isinstance(outcomes[1], waitlist.OfferEnded)
    offer.refresh_from_db()
    assert offer.status == Offer.Status.DECLINED
    assert not booked_at(practitioner, at(6, 3, 10, 30))


def test_staff_withdrawing_an_offer_and_an_accept_queued_behind_it(waiting, practitioner):
    _day, (first, *_rest) = waiting
    offer = live_offer(first)
    staff = UserFactory(email="desk@clinic.example", is_staff=True)
    outcomes = one_after_another(
        offer,
        lambda: waitlist.offer_withdraw(offer=offer, by=staff, reason="By phone.", now=NOW),
        accept(offer),
    )
    refusals_only(outcomes, allowed=(waitlist.OfferEnded,))
    offer.refresh_from_db()
    assert offer.status == Offer.Status.WITHDRAWN
    assert not booked_at(practitioner, at(6, 3, 10, 30))


def test_an_accept_and_leaving_the_waitlist_queued_behind_it(waiting, practitioner):
    """The accept takes the offer's row, then marks the entry booked; leaving locks the
    entry, then asks for the offer's row: it must not hold the entry while it waits."""
    _day, (first, *_rest) = waiting
    offer = live_offer(first)
    outcomes = one_after_another(
        offer, accept(offer), lambda: waitlist.entry_leave(entry=offer.entry, now=NOW)
    )
    refusals_only(outcomes)
    offer.refresh_from_db()
    offer.entry.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED
    assert offer.entry.status == WaitlistEntry.Status.BOOKED  # booked, so nothing to leave
    assert len(booked_at(practitioner, at(6, 3, 10, 30))) == 1
