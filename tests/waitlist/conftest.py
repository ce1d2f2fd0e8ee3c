"""The waitlist's tests: a clinic with one practitioner, and patients waiting."""

from datetime import date, timedelta

import pytest

from booking.waitlist import services as waitlist
from booking.waitlist.services import Wish
from tests.booking.conftest import NOW, now, patient, practitioner, treatment  # noqa: F401
from tests.booking.factories import PatientFactory


def join(patient, treatment, *, days=(date(2026, 6, 2), date(2026, 6, 30)), session=None, **wish):
    """`patient` joins the waitlist for a first session (a course of 3) or for `session`."""
    return waitlist.entry_join(
        patient=patient,
        treatment=None if session else treatment,
        session=session,
        sessions=None if session else 3,
        wish=Wish(date_from=days[0], date_to=days[1], **wish),
        answers={q.pk: "no" for q in treatment.questions.all()},
        answers_version=treatment.questions_version,
    )


@pytest.fixture
def waiting(db):
    """Patients to wait, made on demand."""
    return lambda: PatientFactory()


__all__ = ["NOW", "join", "timedelta"]
