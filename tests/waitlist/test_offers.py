"""Freed time goes to the first waiting patient it suits, held for them until they answer."""

from datetime import date, timedelta

import pytest
from django.core import mail

from booking import reminders, selectors, services
from booking.models import ConsentText, Offer, Reminder, Session, WaitlistEntry
from booking.waitlist import services as waitlist
from tests.booking.factories import PatientFactory
from tests.helpers import at, book
from tests.waitlist.conftest import NOW, join

pytestmark = pytest.mark.django_db


def send_offers(now):
    """The dispatcher's work, in process: claim the offer emails due and send them."""
    for reminder_id in reminders.dispatch_due(now=now, kinds=[Reminder.Kind.OFFER]):
        reminders.reminder_send(reminder_id=reminder_id, now=now)


def free_at(treatment, practitioner, start):
    day = start.date()
    return any(
        s.start == start
        for s in selectors.free_slots(
            treatment=treatment, day_from=day, day_to=day, now=NOW, practitioners=[practitioner]
        )
    )


@pytest.fixture
def booked(now, treatment, practitioner):
    """Someone else's one-session course on Wednesday 3 June at 10:00."""
    return book(PatientFactory(), treatment, practitioner, [at(6, 3, 10)]).sessions.get()


def test_a_cancelled_time_is_held_for_the_first_patient_waiting(booked, treatment, practitioner):
    first, second = PatientFactory(), PatientFactory()
    join(first, treatment)
    join(second, treatment)
    services.session_cancel(session=booked, now=NOW)
    assert waitlist.waitlist_sweep(now=NOW)["offered"] == 1
    offer = Offer.objects.get()
    assert offer.patient == first and offer.status == Offer.Status.HELD
    assert offer.hold.start == at(6, 3, 10) and offer.hold.status == Session.Status.HELD
    assert offer.hold.held_until == NOW + timedelta(hours=2)
    # Held: the time is offered to nobody else and the second patient waits.
    assert not free_at(treatment, practitioner, at(6, 3, 10))
    assert not Offer.objects.filter(patient=second).exists()
    # Holds are no one's appointments.
    assert not Session.objects.filter(pk=offer.hold.pk).exists()


def test_the_offer_email_has_links_and_accepting_books_the_course(booked, treatment, practitioner):
    patient = PatientFactory()
    join(patient, treatment)
    services.session_cancel(session=booked, now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    mail.outbox.clear()
    send_offers(NOW)
    (message,) = [m for m in mail.outbox if m.to == [patient.user.email]]
    assert "10:00" in message.subject
    assert "/waitlist/offers/" in message.body and "until 10:00" in message.body
    offer = Offer.objects.get()
    plan = waitlist.first_course_plan(offer, NOW)
    session = waitlist.offer_accept(
        offer=offer,
        now=NOW,
        later=[p.slot for p in plan[1:]],
        consent=ConsentText.current(),
    )
    assert session.start == at(6, 3, 10) and session.patient == patient
    assert session.course.sessions.count() == 3
    offer.refresh_from_db()
    assert offer.status == Offer.Status.ACCEPTED and offer.booked == session
    assert offer.entry.status == WaitlistEntry.Status.BOOKED
    assert Session.with_holds.get(pk=offer.hold_id).status == Session.Status.CANCELLED
    # Accepting again (a second click) returns the same booking.
    assert waitlist.offer_accept(offer=offer, now=NOW) == session


def test_a_declined_offer_goes_to_the_next_patient(booked, treatment):
    first, second = PatientFactory(), PatientFactory()
    join(first, treatment)
    join(second, treatment)
    services.session_cancel(session=booked, now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    waitlist.offer_decline(offer=Offer.objects.get(patient=first), now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    offer = Offer.objects.get(patient=second)
    assert offer.hold.start == at(6, 3, 10)
    # The first stays on the waitlist, and is not offered the same time again.
    assert WaitlistEntry.objects.get(patient=first).is_waiting


def test_a_hold_lapses_after_its_time_and_is_handed_on(booked, treatment):
    first, second = PatientFactory(), PatientFactory()
    join(first, treatment)
    join(second, treatment)
    services.session_cancel(session=booked, now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    send_offers(NOW)
    assert waitlist.waitlist_sweep(now=NOW + timedelta(hours=1, minutes=59))["lapsed"] == 0
    later = NOW + timedelta(hours=2)
    assert waitlist.waitlist_sweep(now=later) == {"expired": 0, "lapsed": 1, "offered": 1}
    assert Offer.objects.get(patient=first).status == Offer.Status.LAPSED
    assert Offer.objects.get(patient=second).is_live
    with pytest.raises(waitlist.OfferEnded):
        waitlist.offer_accept(offer=Offer.objects.get(patient=first), now=later)


def test_an_earlier_time_moves_a_booked_session(booked, treatment, practitioner):
    patient = PatientFactory()
    mine = book(patient, treatment, practitioner, [at(6, 10, 10)]).sessions.get()
    join(patient, treatment, session=mine, days=(date(2026, 6, 2), date(2026, 6, 9)))
    services.session_cancel(session=booked, now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    offer = Offer.objects.get()
    moved = waitlist.offer_accept(offer=offer, now=NOW)
    assert moved.pk == mine.pk and moved.start == at(6, 3, 10)
    # The time it left is freed in turn.
    assert free_at(treatment, practitioner, at(6, 10, 10))


def test_nobody_else_can_book_a_held_time(booked, treatment, practitioner):
    join(PatientFactory(), treatment)
    services.session_cancel(session=booked, now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    with pytest.raises(services.BookingError):
        book(PatientFactory(), treatment, practitioner, [at(6, 3, 10)])


def test_the_data_export_holds_the_waitlist_and_deleting_the_account_leaves_it(booked, treatment):
    from booking import privacy

    first, second = PatientFactory(), PatientFactory()
    join(first, treatment)
    join(second, treatment)
    services.session_cancel(session=booked, now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    (entry,) = privacy.patient_data(user=first.user)["waitlist"]
    assert entry["treatment"] == treatment.name and entry["status"] == "waiting"
    assert [o["status"] for o in entry["offers"]] == ["held"]
    privacy.account_delete(user=first.user, now=NOW)
    assert WaitlistEntry.objects.get(patient=first).status == WaitlistEntry.Status.LEFT
    assert Offer.objects.get(patient=first).status == Offer.Status.WITHDRAWN
    waitlist.waitlist_sweep(now=NOW)  # the time goes to the next patient waiting
    assert Offer.objects.get(patient=second).hold.start == at(6, 3, 10)


def test_reception_is_told_the_time_is_held_and_until_when(booked, treatment, practitioner):
    join(PatientFactory(), treatment)
    services.session_cancel(session=booked, now=NOW)
    waitlist.waitlist_sweep(now=NOW)
    with pytest.raises(services.SlotTaken) as refused:
        book(PatientFactory(), treatment, practitioner, [at(6, 3, 10)], now=NOW)
    assert "held for another patient until 10:00" in refused.value.message
    assert refused.value.alternatives and at(6, 3, 10) not in [
        s.start for s in refused.value.alternatives
    ]


def test_booking_a_course_ends_waiting_for_its_first_session(booked, treatment, practitioner):
    patient = PatientFactory()
    entry = join(patient, treatment)
    book(patient, treatment, practitioner, [at(6, 4, 10)])
    assert waitlist.waitlist_sweep(now=NOW)["expired"] == 1
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.ENDED


def test_answers_to_changed_health_questions_end_the_entry_and_are_offered_nothing(
    booked, treatment
):
    from education.models import SuitabilityQuestion

    entry = join(PatientFactory(), treatment)
    SuitabilityQuestion.objects.create(treatment=treatment, text="Are you pregnant?")
    services.session_cancel(session=booked, now=NOW)
    assert waitlist.waitlist_sweep(now=NOW) == {"expired": 1, "lapsed": 0, "offered": 0}
    entry.refresh_from_db()
    assert entry.status == WaitlistEntry.Status.ENDED
    assert "health questions have changed" in entry.ended_reason
