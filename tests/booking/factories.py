from datetime import time

import factory

from booking.models import Patient, Practitioner, WorkingHours
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


def agreed(treatment) -> dict:
    """What a course records beside its times: consent given online, every health answer "no"."""
    from booking.models import ConsentText
    from booking.services import online_agreement

    if ConsentText.current() is None:
        ConsentText.objects.create(version=1, text="I agree to the treatment.")
    return online_agreement(treatment)


def book_course(**kwargs):
    """booking.services.course_book as the journey calls it (agreed() unless given)."""
    from booking.services import course_book

    return course_book(**{**agreed(kwargs["treatment"]), **kwargs})
