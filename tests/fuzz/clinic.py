"""The clinic every fuzz test runs in: set up once per test, not per example."""

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from hypothesis import strategies as st

from booking import selectors
from booking.availability import Slot
from booking.journey import slot_value
from booking.models import ConsentText, Course, Patient, Practitioner, Session
from education.models import NewsletterSubscriber, SuitabilityQuestion
from tests.booking.conftest import NOW
from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.education.factories import (
    ConsultationFactory,
    SubscriberFactory,
    SuitabilityQuestionFactory,
    TreatmentFactory,
)
from tests.fuzz.junk import IDS
from tests.helpers import at, book
from tests.staff.conftest import staff_user


@dataclass
class Clinic:
    """Everything the endpoints need, set up once per test (not per example)."""

    treatment: Any
    consultation: Any
    questions: list
    a: Practitioner
    b: Practitioner
    patient: Patient
    course: Course
    sessions: list[Session]  # the patient's course, session 1 first
    other_course: Course  # another patient's
    subscriber: NewsletterSubscriber
    reception: Any
    clinician: Any
    own_session: Session  # the clinician's
    slots: list[str]  # free first-session slots as the pages post them
    later_slots: list[str]  # free slots inside session 2's window
    extra: dict = field(default_factory=dict)

    def ids(self) -> st.SearchStrategy[str]:
        """Real ids of every kind (someone else's among them) and random ones."""
        real = [
            *(s.pk for s in Session.objects.all()),
            *(c.pk for c in Course.objects.all()),
            *(p.pk for p in Patient.objects.all()),
            self.a.pk,
            self.b.pk,
        ]
        return st.one_of(st.sampled_from([str(pk) for pk in real]), IDS)


def _free(treatment, day_from, day_to, practitioners=None) -> list[Slot]:
    return selectors.free_slots(
        treatment=treatment,
        day_from=day_from,
        day_to=day_to,
        now=NOW,
        practitioners=practitioners,
        latest=at(12, 31, 0),
    )


def clinic_open() -> Clinic:
    """Two practitioners, a patient with a three-session course, another patient's course,
    a clinician with a session of their own, reception, and free slots to post."""
    treatment = TreatmentFactory()
    questions = [
        SuitabilityQuestionFactory(
            treatment=treatment, outcome=SuitabilityQuestion.Outcome.NOT_SUITABLE
        ),
        SuitabilityQuestionFactory(treatment=treatment),  # consult
    ]
    consultation = ConsultationFactory()
    a = PractitionerFactory(treatments=[treatment, consultation], display_name="Dr A")
    b = PractitionerFactory(treatments=[treatment, consultation], display_name="Dr B")
    ConsentText.objects.create(version=1, text="I agree.")
    patient = PatientFactory(full_name="Pat Patient")
    course = book(patient, treatment, a, [at(6, 9, 10), at(7, 7, 10), at(8, 4, 10)], now=NOW)
    with_b = Slot(at(7, 1, 14), at(7, 1, 15, 15), b.pk)  # session 2 with the other practitioner
    other_course = book(PatientFactory(), treatment, a, [at(6, 3, 14), with_b], now=NOW)
    clinician = staff_user("Clinician", "clinician@clinic.example")
    own = PractitionerFactory(treatments=[treatment], user=clinician, display_name="Dr Own")
    own_course = book(PatientFactory(), treatment, own, [at(6, 4, 10)], now=NOW)
    day = date(2026, 6, 8)
    found = _free(treatment, day, day + timedelta(days=2), [a, b])
    later = _free(treatment, date(2026, 7, 7), date(2026, 7, 10), [a, b])
    return Clinic(
        treatment=treatment,
        consultation=consultation,
        questions=questions,
        a=a,
        b=b,
        patient=patient,
        course=course,
        sessions=list(course.sessions.order_by("number")),
        other_course=other_course,
        subscriber=SubscriberFactory(),
        reception=staff_user("Reception", "reception@clinic.example"),
        clinician=clinician,
        own_session=own_course.sessions.get(),
        slots=[slot_value(s) for s in found[::7]],
        later_slots=[slot_value(s) for s in later[::7]],
    )


def slot_values(clinic: Clinic) -> st.SearchStrategy[str]:
    return st.sampled_from(clinic.slots + clinic.later_slots)
