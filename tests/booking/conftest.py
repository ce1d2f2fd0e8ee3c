from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from tests.booking.factories import PatientFactory, PractitionerFactory
from tests.education.factories import TreatmentFactory

LONDON = ZoneInfo("Europe/London")
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
