"""Settings for a worker that kills itself once mid-send (tests/booking/test_reminder_crash.py)."""

from clinic.settings.test import *  # noqa: F403

EMAIL_BACKEND = "tests.booking.crash_backend.CrashingSMTPBackend"
