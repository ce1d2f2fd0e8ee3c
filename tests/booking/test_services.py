"""The booking services: every rule refused clearly, nothing half-saved."""

from datetime import datetime, timedelta

import pytest
import time_machine

from booking import rulebook, selectors, services
from booking.availability import Slot
from booking.courses import course_plan
from booking.models import (
    BookingRules,
    ClinicClosure,
    Course,
    ReminderSettings,
    Session,
    TimeOff,
)
from booking.services import BookingError, SlotTaken
from tests.booking.conftest import LONDON, NOW
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.education.factories import TreatmentFactory
from tests.helpers import at, book

pytestmark = pytest.mark.django_db


def plan(treatment, practitioner, first, sessions=3, patient=None):
    finder = selectors.slot_finder(
        treatment=treatment, practitioner=practitioner, now=NOW, patient=patient
    )
    first_slot = Slot(
        first, first + timedelta(minutes=treatment.appointment_minutes), practitioner.pk
    )
    planned = course_plan(
        first=first_slot,
        sessions=sessions,
        spacing=rulebook.spacing_of(treatment),
        zone=LONDON,
        find_slots=finder,
    )
    return [p.slot for p in planned]


def book_planned(patient, treatment, practitioner, first, sessions=3, **kwargs):
    """book() the course the journey plans from its first session at `first`."""
    return book(
        patient,
        treatment,
        practitioner,
        plan(treatment, practitioner, first, sessions, patient),
        **kwargs,
    )


def test_a_course_books_every_session_at_the_same_local_time(now, patient, treatment, practitioner):
    course = book_planned(patient, treatment, practitioner, at(6, 3, 10))
    sessions = list(course.sessions.order_by("number"))
    assert [s.number for s in sessions] == [1, 2, 3]
    assert [s.start.astimezone(LONDON).strftime("%a %d %b %H:%M") for s in sessions] == [
        "Wed 03 Jun 10:00",
        "Wed 01 Jul 10:00",
        "Wed 29 Jul 10:00",
    ]
    assert all(s.end - s.start == timedelta(minutes=75) for s in sessions)
    assert all(s.patient_id == patient.pk for s in sessions)


def test_the_same_idempotency_key_books_once(now, patient, treatment, practitioner):
    first = book_planned(patient, treatment, practitioner, at(6, 3, 10), idempotency_key="k-1")
    again = book_planned(patient, treatment, practitioner, at(6, 3, 10), idempotency_key="k-1")
    assert first.pk == again.pk
    assert Course.objects.count() == 1 and Session.objects.count() == 3


def test_booking_a_six_session_course_takes_at_most_20_queries(
    now, patient, treatment, practitioner, django_assert_max_num_queries
):
    slots = plan(treatment, practitioner, at(6, 3, 10), sessions=6, patient=patient)
    BookingRules.current(), ReminderSettings.current()  # cached in steady state (5 minutes)
    # 15, 2 for the audit history's rows, 1 for the patient's other courses of the treatment
    # (the across-course rules), 1 for its health questions (the answers rule) and 1 for
    # the price it is sold at, the course ledger's first entry.
    with django_assert_max_num_queries(20):
        book(patient, treatment, practitioner, slots)
    assert Session.objects.count() == 6


@pytest.mark.parametrize(
    ("case", "first", "message"),
    [
        ("past", at(5, 29, 10), "at least 24 hours"),
        ("inside notice", at(6, 1, 15), "at least 24 hours"),
        ("beyond horizon", at(9, 30, 10), "within 12 weeks"),
        ("outside hours", at(6, 3, 7), "not one we offer"),
        ("off the grid", at(6, 3, 10, 7), "not one we offer"),
        ("weekend", at(6, 6, 10), "not one we offer"),
    ],
)
def test_invalid_first_times_are_refused_and_nothing_is_saved(
    now, patient, treatment, practitioner, case, first, message
):
    slot = Slot(first, first + timedelta(minutes=75), practitioner.pk)
    with pytest.raises(BookingError, match=message):
        book(patient, treatment, practitioner, [slot])
    assert Course.objects.count() == 0 and Session.objects.count() == 0


def test_time_off_and_closures_are_refused(now, patient, treatment, practitioner):
    TimeOff.objects.create(practitioner=practitioner, start=at(6, 3, 0), end=at(6, 4, 0))
    ClinicClosure.objects.create(date=at(6, 5, 0).date(), name="Bank holiday")
    for start in (at(6, 3, 10), at(6, 5, 10)):
        with pytest.raises(BookingError, match="not one we offer"):
            book(patient, treatment, practitioner, [start])
    assert Session.objects.count() == 0


def test_spacing_outside_the_window_is_refused(now, patient, treatment, practitioner):
    with pytest.raises(BookingError, match="28 to 42 days after session 1"):
        book(patient, treatment, practitioner, [at(6, 3, 10), at(6, 17, 10)])
    assert Session.objects.count() == 0


def test_a_practitioner_who_does_not_offer_the_treatment_is_refused(now, patient, treatment):
    other = PractitionerFactory(treatments=[TreatmentFactory(slug="peel", name="Peel")])
    with pytest.raises(BookingError, match="does not offer"):
        book(patient, treatment, other, [at(6, 3, 10)])


def test_a_course_length_outside_the_range_is_refused(now, patient, treatment, practitioner):
    treatment.sessions_max = 2
    treatment.sessions_usual = 2
    treatment.save()
    with pytest.raises(BookingError, match="1 to 2 sessions"):
        book_planned(patient, treatment, practitioner, at(6, 3, 10), sessions=3)
    assert Session.objects.count() == 0


def test_a_conflict_on_session_3_of_3_leaves_no_row(now, patient, treatment, practitioner):
    slots = plan(treatment, practitioner, at(6, 3, 10), patient=patient)
    rival = PatientFactory()
    book(rival, treatment, practitioner, [slots[2]])  # takes session 3's time
    with pytest.raises(SlotTaken) as error:
        book(patient, treatment, practitioner, slots)
    assert "just been booked" in error.value.message
    assert error.value.alternatives
    assert all(a.start != slots[2].start for a in error.value.alternatives)
    assert not Session.objects.filter(patient=patient).exists()
    assert not Course.objects.filter(patient=patient).exists()


def test_a_patient_cannot_be_in_two_places(now, patient, treatment, practitioner):
    peel = TreatmentFactory(name="Peel", slug="peel")
    other = PractitionerFactory(treatments=[peel])
    book(patient, treatment, practitioner, [at(6, 3, 10)])
    with pytest.raises(SlotTaken):
        book(patient, peel, other, [at(6, 3, 10, 30)])


def test_a_course_starting_in_february_keeps_10_am_after_the_march_change(
    patient, treatment, practitioner
):
    with time_machine.travel(datetime(2026, 2, 2, 9, tzinfo=LONDON), tick=False):
        first = datetime(2026, 2, 18, 10, tzinfo=LONDON)
        finder = selectors.slot_finder(
            treatment=treatment,
            practitioner=practitioner,
            now=datetime(2026, 2, 2, 9, tzinfo=LONDON),
        )
        planned = course_plan(
            first=Slot(first, first + timedelta(minutes=75), practitioner.pk),
            sessions=3,
            spacing=rulebook.spacing_of(treatment),
            zone=LONDON,
            find_slots=finder,
        )
        course = book(
            patient,
            treatment,
            practitioner,
            [p.slot for p in planned],
            now=datetime(2026, 2, 2, 9, tzinfo=LONDON),
        )
    local = [s.start.astimezone(LONDON) for s in course.sessions.order_by("number")]
    assert [t.strftime("%d %b %H:%M %Z") for t in local] == [
        "18 Feb 10:00 GMT",
        "18 Mar 10:00 GMT",
        "15 Apr 10:00 BST",
    ]


class TestChanges:
    @pytest.fixture
    def course(self, now, patient, treatment, practitioner):
        return book_planned(patient, treatment, practitioner, at(6, 10, 10))

    @pytest.fixture
    def reception_user(self, db):
        from tests.booking.factories import UserFactory

        return UserFactory(email="desk@clinic.example", is_staff=True)

    def test_a_move_that_squeezes_the_next_session_moves_it_too_or_nothing(self, now, course):
        second, third = course.sessions.get(number=2), course.sessions.get(number=3)
        # Session 3 (5 Aug) would be 15 days after session 2: outside 28-42 days.
        with pytest.raises(services.NeedsReplan) as needed:
            services.session_move(session=second, new_start=at(7, 21, 11))
        second.refresh_from_db()
        assert second.start == at(7, 8, 10)  # nothing stored
        (proposal,) = needed.value.proposals
        assert proposal.number == 3
        assert proposal.slot.start.astimezone(LONDON).date() >= at(8, 18, 0).date()
        result = services.session_move(
            session=second, new_start=at(7, 21, 11), also={3: proposal.slot}
        )
        third.refresh_from_db()
        assert result.session.start == at(7, 21, 11) and third.start == proposal.slot.start
        assert result.moved == [third]

    def test_staff_may_keep_a_later_session_outside_its_window_with_a_reason(
        self, now, course, reception_user
    ):
        second = course.sessions.get(number=2)
        services.session_move(
            session=second,
            new_start=at(7, 21, 11),
            by_staff=True,
            override_reason="Patient away in August; agreed by phone",
            by=reception_user,
        )
        course.refresh_from_db()
        assert "window" in course.waived and course.override_by == reception_user
        assert "away in August" in course.override_reason

    def test_a_first_session_cannot_move_past_the_horizon_or_its_next_one(self, now, course):
        first = course.sessions.get(number=1)
        with pytest.raises(BookingError, match="within 12 weeks"):
            services.session_move(session=first, new_start=now + timedelta(weeks=78))
        with pytest.raises(services.NeedsReplan):  # after session 2: it would have to move
            services.session_move(session=first, new_start=at(7, 13, 10))
        first.refresh_from_db()
        assert first.start == at(6, 10, 10)

    def test_cancelling_a_middle_session_offers_to_move_or_cancel_the_next(self, now, course):
        second, third = course.sessions.get(number=2), course.sessions.get(number=3)
        # Without session 2, session 3 (5 Aug) is 56 days after session 1: outside 28-42.
        with pytest.raises(services.NeedsReplan) as needed:
            services.session_cancel(session=second)
        assert second.status == Session.Status.BOOKED
        (proposal,) = needed.value.proposals
        services.session_cancel(session=second, also={3: proposal.slot})
        third.refresh_from_db()
        assert third.start == proposal.slot.start and third.status == Session.Status.BOOKED

    def test_cancelling_a_middle_session_with_the_ones_after_it(self, now, course):
        second = course.sessions.get(number=2)
        services.session_cancel(session=second, with_later=True)
        assert [s.number for s in course.sessions.active()] == [1]

    def test_move_outside_the_window_is_refused(self, now, course):
        second = course.sessions.get(number=2)
        with pytest.raises(BookingError, match="must be between"):
            services.session_move(session=second, new_start=at(6, 24, 10))
        second.refresh_from_db()
        assert second.start == at(7, 8, 10)

    def test_inside_the_notice_period_patients_are_asked_to_call(self, course):
        first = course.sessions.get(number=1)
        with time_machine.travel(at(6, 9, 12), tick=False):
            with pytest.raises(BookingError, match="call us"):
                services.session_cancel(session=first)
            services.session_cancel(session=first, by_staff=True)
        first.refresh_from_db()
        assert first.status == Session.Status.CANCELLED

    def test_cancel_the_rest_of_the_course(self, now, course):
        cancelled = services.course_cancel(course=course)
        assert len(cancelled) == 3
        course.refresh_from_db()
        assert course.status == Course.Status.CANCELLED
        assert not Session.objects.active().exists()

    def test_a_cancelled_time_is_free_again(self, now, course, treatment, practitioner):
        services.course_cancel(course=course)
        rival = PatientFactory()
        assert book(rival, treatment, practitioner, [at(6, 10, 10)])
