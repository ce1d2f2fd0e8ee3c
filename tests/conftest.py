"""Project-wide fixtures, and the rule for tests that need a server.

Tests marked ``postgres``, ``redis`` or ``browser`` run only where that server
(or Chromium) exists. Without it they are skipped with the reason, unless
REQUIRE_SERVICES=1 (as in CI), which turns the skip into a failure.
"""

import os
import shutil

import pytest
from django.conf import settings
from django.core.cache import cache

REQUIRE_SERVICES = os.environ.get("REQUIRE_SERVICES") == "1"
CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")


def _missing(marker: str) -> str | None:
    """Why the server behind `marker` is not here, or None when it is."""
    present = {
        "postgres": lambda: settings.DATABASES["default"]["ENGINE"].endswith("postgresql"),
        "redis": lambda: bool(settings.REDIS_URL),
        "browser": lambda: os.path.exists(CHROMIUM),
        "gettext": lambda: shutil.which("xgettext") is not None,
    }
    reasons = {
        "postgres": "needs PostgreSQL (set DATABASE_URL or start it on 127.0.0.1:5432)",
        "redis": "needs Redis (set REDIS_URL or start it on 127.0.0.1:6379)",
        "browser": f"needs Chromium at {CHROMIUM} (apt-get install chromium)",
        "gettext": "needs xgettext for makemessages (apt-get install gettext)",
    }
    return None if present[marker]() else reasons[marker]


def pytest_runtest_setup(item):
    for marker in ("postgres", "redis", "browser", "gettext"):
        if item.get_closest_marker(marker) is None:
            continue
        reason = _missing(marker)
        if reason is None:
            continue
        if REQUIRE_SERVICES:
            pytest.fail(f"REQUIRE_SERVICES=1 but this test {reason}", pytrace=False)
        pytest.skip(reason)


@pytest.fixture(autouse=True)
def _fresh_cache():
    """Each test starts with an empty cache (Redis in CI is shared)."""
    cache.clear()
    yield
    cache.clear()
