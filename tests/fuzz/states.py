"""Driving a client into the state a page expects: a journey at a step, someone signed in."""

from collections.abc import Callable
from typing import Any

from django.test import Client

from tests.booking.factories import UserFactory
from tests.fuzz.clinic import Clinic
from tests.staff.conftest import staff_user


def journey_to(client: Client, clinic: Clinic, step: str) -> None:
    """Walk the booking journey as a patient would, up to (not through) `step`."""
    order = ["length", "questions", "practitioner", "time", "plan", "consent", "confirm"]
    client.get(f"/book/treatment/{clinic.treatment.slug}/")
    if order.index(step) > order.index("length"):
        client.post("/book/course/", {"sessions": "3"})
    if order.index(step) > order.index("questions"):
        client.post("/book/questions/", {f"q{q.pk}": "no" for q in clinic.questions})
    if order.index(step) > order.index("practitioner"):
        client.post("/book/practitioner/", {"practitioner": "any"})
    if order.index(step) > order.index("time"):
        assert client.post("/book/time/", {"slot": clinic.slots[0]}).url == "/book/plan/"
    if order.index(step) > order.index("consent"):
        assert client.post("/book/consent/", {"agree": "on"}).url == "/book/confirm/"
    clinic.extra["journey_key"] = client.session["booking_journey"]["key"]


def consulting(client: Client, clinic: Clinic) -> None:
    """A 'talk to a clinician first' answer: the consultation is offered."""
    journey_to(client, clinic, "questions")
    not_suitable, consult = clinic.questions
    client.post("/book/questions/", {f"q{not_suitable.pk}": "no", f"q{consult.pk}": "yes"})


def signed_in(who: str) -> Callable[[Client, Clinic], Any]:
    def sign_in(client: Client, clinic: Clinic) -> None:
        users = {
            "patient": lambda: clinic.patient.user,
            "reception": lambda: clinic.reception,
            "clinician": lambda: clinic.clinician,
            "superuser": lambda: staff_user(None, "owner@clinic.example", is_superuser=True),
            "new user": lambda: UserFactory(email="no-patient-yet@example.org"),
        }
        client.force_login(users[who]())

    return sign_in


def steps(*setups) -> Callable[[Client, Clinic], None]:
    def run(client, clinic):
        for setup in setups:
            setup(client, clinic)

    return run
