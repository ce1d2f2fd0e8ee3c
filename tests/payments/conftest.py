"""The fake Stripe for the deposit tests, and the settings that point the app at it.

One threaded server for the whole run (starting and stopping one costs up to half a second);
each test gets a fresh FakeStripe on it, with empty state.
"""

from decimal import Decimal

import pytest
from pytest_httpserver import HTTPServer

# The booking tests' frozen clock and people (the deposit tests book courses too).
from tests.booking.conftest import now, patient, practitioner, treatment  # noqa: F401
from tests.payments.fake_stripe import FakeStripe
from tests.payments.signing import WEBHOOK_PATH


@pytest.fixture
def priced(treatment, practitioner):  # noqa: F811 (the booking fixtures, imported above)
    """The booking tests' treatment at £180 a session (£480 for 3), asking a £50 deposit."""
    treatment.session_price, treatment.package_price = Decimal("180.00"), Decimal("480.00")
    treatment.deposit, treatment.deposit_value = "fixed", Decimal("50.00")
    treatment.save()
    return treatment


@pytest.fixture(scope="session")
def fake_stripe_server():
    server = HTTPServer(host="127.0.0.1", port=0, threaded=True)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def fake_stripe(fake_stripe_server, settings):
    """A FakeStripe with no sessions yet, and the app's STRIPE_* settings aimed at it."""
    fake = FakeStripe(fake_stripe_server)
    settings.STRIPE_SECRET_KEY = fake.api_key
    settings.STRIPE_WEBHOOK_SECRET = fake.secret
    settings.STRIPE_API_BASE = fake.origin
    settings.STRIPE_CHECKOUT_ORIGIN = fake.checkout_origin
    settings.STRIPE_TIMEOUT_SECONDS = 1
    yield fake
    fake.close()
    try:
        fake_stripe_server.check_handler_errors()  # a bug in the fake itself fails the test
    finally:
        fake_stripe_server.clear()


@pytest.fixture
def fake_stripe_live(fake_stripe, live_server):
    """fake_stripe that delivers a Pay on its checkout page to the app's webhook (browser tests)."""
    fake_stripe.webhook_url = live_server.url + WEBHOOK_PATH
    return fake_stripe
