import re
from datetime import datetime, timedelta

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.education.factories import TreatmentFactory
from tests.helpers import LONDON, at, book

NOW = datetime(2026, 6, 1, 8, 0, tzinfo=LONDON)  # a Monday morning


@pytest.fixture
def now():
    with time_machine.travel(NOW, tick=False):
        yield NOW


@pytest.fixture
def treatment(db):
    return TreatmentFactory()  # 45 + 30 minutes; 1 to 6 sessions, 28/28/42 days apart


@pytest.fixture
def practitioner(treatment):
    return PractitionerFactory(treatments=[treatment])


@pytest.fixture
def patient(db):
    return PatientFactory()


CODE_IN_SUBJECT = re.compile(r"Your code is (\d{6})")


def emailed_code(to: str) -> str:
    """The code in the last booking-code email sent to `to`."""
    message = next(m for m in reversed(mail.outbox) if m.to == [to])
    return CODE_IN_SUBJECT.search(message.subject).group(1)


def email_code_sign_in(client, email: str):
    """The journey's details step for someone not signed in: the address, then its code."""
    client.post(reverse("booking:account"), {"action": "send", "email": email})
    return client.post(reverse("booking:account"), {"action": "code", "code": emailed_code(email)})


def first_free_slot(treatment, practitioner, *, days_ahead: int = 7):
    """The first free time with `practitioner` in the week starting `days_ahead` days from now."""
    from django.utils import timezone

    from booking import selectors

    day = timezone.localdate() + timedelta(days=days_ahead)
    return selectors.free_slots(
        treatment=treatment,
        day_from=day,
        day_to=day + timedelta(days=6),
        now=timezone.now(),
        practitioners=[practitioner],
    )[0]


def move_page(client, session, start, practitioner):
    """The move's confirm page for `session` at `start` with `practitioner` (nothing moves)."""
    return client.get(
        reverse("booking:session_move_confirm", args=[session.pk]),
        {"slot": f"{start.isoformat()}|{practitioner.pk}"},
    )


def confirm_move(client, session, start, practitioner, **extra):
    """Move `session` as a patient does: the confirm page, then its Confirm button (with
    what the page showed, or without a form to post when it offers none)."""
    page = move_page(client, session, start, practitioner)
    fields = dict(
        re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)"', page.content.decode())
    )
    fields.pop("csrfmiddlewaretoken", None)
    if "slot" not in fields:
        return page
    return client.post(
        reverse("booking:session_move_confirm", args=[session.pk]), {**fields, **extra}
    )


@pytest.fixture
def course(now, patient, treatment, practitioner):
    """A course of 3: 10 June, 8 July and 5 August 2026, 10:00 (the clock: 1 June, 08:00).
    A test file with a course of its own defines its own fixture."""
    return book(patient, treatment, practitioner, [at(6, 10), at(7, 8), at(8, 5)])


@pytest.fixture
def signed_in(client, patient):
    """The test client, signed in as `patient`."""
    client.force_login(patient.user)
    return client


@pytest.fixture
def clinic_ready(now, treatment, practitioner):
    """Online booking open: a consent text, the two usual questions, a consultation."""
    from booking.models import ConsentText
    from tests.education.factories import ConsultationFactory, usual_questions

    ConsentText.objects.create(version=1, text="I agree to the treatment.")
    usual_questions(treatment)
    consultation = ConsultationFactory()
    practitioner.treatments.add(consultation)
    return treatment
