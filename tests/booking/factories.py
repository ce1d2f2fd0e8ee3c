"""Rows as the database keeps them, for tests that read them: the models' constraints
hold (no overlaps, no session over 12 hours, a session's patient and practitioner are its
course's), the booking rules need not. A test that needs a booking that keeps the rules
books it through the service: tests/helpers.py book()."""

from datetime import datetime, time, timedelta

import factory
from django.utils import timezone

from booking.models import ConsentText, Course, Patient, Practitioner, Session, WorkingHours
from tests.education.factories import TreatmentFactory


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "clinic.User"
        django_get_or_create = ["email"]
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"person{n}@example.org")
    password = factory.django.Password("a-Password-123")

    @factory.post_generation
    def verified(self, create, extracted, **kwargs):
        """Its address as allauth keeps it: verified (pass verified=False for one that is not)."""
        if create:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.update_or_create(
                user=self,
                email=self.email,
                defaults={"primary": True, "verified": extracted is not False},
            )


class PractitionerFactory(factory.django.DjangoModelFactory):
    """Works Monday to Friday, 09:00 to 17:00, and offers microneedling."""

    class Meta:
        model = Practitioner
        skip_postgeneration_save = True

    display_name = factory.Sequence(lambda n: f"Practitioner {n}")
    credentials = "RN"

    @factory.post_generation
    def treatments(self, create, extracted, **kwargs):
        for treatment in extracted if extracted is not None else [TreatmentFactory()]:
            self.treatments.add(treatment)

    @factory.post_generation
    def hours(self, create, extracted, **kwargs):
        rows = (
            extracted if extracted is not None else [(day, time(9), time(17)) for day in range(5)]
        )
        WorkingHours.objects.bulk_create(
            [WorkingHours(practitioner=self, weekday=d, start=s, end=e) for d, s, e in rows]
        )


class PatientFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Patient

    user = factory.SubFactory(UserFactory)
    full_name = factory.Sequence(lambda n: f"Patient {n}")
    phone = "07700 900000"


class ConsentTextFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ConsentText
        django_get_or_create = ["version"]

    version = 1
    text = "I agree to the treatment."


class CourseFactory(factory.django.DjangoModelFactory):
    """A course of three sessions, consent given online; its practitioner offers its treatment.

    It has no sessions: make them with SessionFactory(course=...), or book() the course.
    """

    class Meta:
        model = Course
        skip_postgeneration_save = True

    patient = factory.SubFactory(PatientFactory)
    treatment = factory.SubFactory(TreatmentFactory)
    practitioner = factory.SubFactory(PractitionerFactory)
    sessions_planned = 3
    consent = factory.SubFactory(ConsentTextFactory)
    consent_method = Course.ConsentMethod.ONLINE
    consent_given_at = factory.LazyFunction(timezone.now)

    class Params:
        cancelled = factory.Trait(status=Course.Status.CANCELLED)
        completed = factory.Trait(status=Course.Status.COMPLETED)

    @factory.post_generation
    def offered(self, create, extracted, **kwargs):
        if create:
            self.practitioner.treatments.add(self.treatment)


def _weekday_slot(n: int, *, past: bool) -> datetime:
    """The n-th start of 09:00, 11:00, 13:00 and 15:00, Monday to Friday, from next week
    onwards (or from last week backwards): inside the factories' working hours, never
    overlapping, in the clinic's wall time."""
    today = timezone.localdate()
    monday = today - timedelta(days=today.weekday())
    week, day, hour = n // 20, n % 20 // 4, 9 + 2 * (n % 4)
    monday += timedelta(weeks=-1 - week if past else 1 + week)
    wall = datetime.combine(monday + timedelta(days=day), time(hour))
    return timezone.make_aware(wall)


class SessionFactory(factory.django.DjangoModelFactory):
    """A booked session of a course, as long as its treatment's appointment.

    Its patient and practitioner are its course's, its number the course's next;
    its start, unless given, a weekday time next week or later, never one another
    session made here holds. Traits: past (last week or earlier), attended and
    no_show (in the past), cancelled (a time it no longer holds).
    """

    class Meta:
        model = Session

    course = factory.SubFactory(CourseFactory)
    patient = factory.SelfAttribute("course.patient")
    practitioner = factory.SelfAttribute("course.practitioner")
    number = factory.LazyAttribute(lambda o: o.course.sessions.active().count() + 1)
    start = factory.LazyAttributeSequence(lambda o, n: _weekday_slot(n, past=o.past))
    end = factory.LazyAttribute(
        lambda o: o.start + timedelta(minutes=o.course.treatment.appointment_minutes)
    )
    status = Session.Status.BOOKED

    class Params:
        past = False
        attended = factory.Trait(past=True, status=Session.Status.ATTENDED)
        no_show = factory.Trait(past=True, status=Session.Status.NO_SHOW)
        cancelled = factory.Trait(
            status=Session.Status.CANCELLED, cancelled_at=factory.LazyFunction(timezone.now)
        )


def agreed(treatment) -> dict:
    """What a course records beside its times: consent given online, every health answer "no"."""
    from booking.models import ConsentText
    from booking.services import online_agreement

    if ConsentText.current() is None:
        ConsentText.objects.create(version=1, text="I agree to the treatment.")
    return online_agreement(treatment)


def book_course(**kwargs):
    """booking.services.course_book as the journey calls it (agreed() unless given), for
    slots a test already holds; tests/helpers.py book() takes clinic times and calls this."""
    from booking.services import course_book

    return course_book(**{**agreed(kwargs["treatment"]), **kwargs})
