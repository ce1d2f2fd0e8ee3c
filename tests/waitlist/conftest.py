"""The waitlist's tests: a clinic with one practitioner, and patients waiting."""

from datetime import date, timedelta

import pytest

from booking.waitlist import services as waitlist
from booking.waitlist.services import Wish
from tests.booking.conftest import (  # noqa: F401
    NOW,
    clinic_ready,
    course,
    now,
    patient,
    practitioner,
    signed_in,
    treatment,
)
from tests.booking.factories import PatientFactory


def join(who, what, *, days=(date(2026, 6, 2), date(2026, 6, 30)), session=None, **wish):
    """Patient `who` joins the waitlist for a first session of treatment `what` (a course of
    3), or for an earlier time of their `session`."""
    return waitlist.entry_join(
        patient=who,
        treatment=None if session else what,
        session=session,
        sessions=None if session else 3,
        wish=Wish(date_from=days[0], date_to=days[1], **wish),
        answers={q.pk: "no" for q in what.questions.all()},
        answers_version=what.questions_version,
    )


@pytest.fixture
def waiting(db):
    """Patients to wait, made on demand."""
    return lambda: PatientFactory()


__all__ = ["NOW", "join", "timedelta"]
