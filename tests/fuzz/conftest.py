import pytest

from tests.booking.conftest import now  # noqa: F401 - the frozen clock fixture
from tests.fuzz.clinic import Clinic, clinic_open


@pytest.fixture
def clinic(now) -> Clinic:  # noqa: F811
    return clinic_open()
