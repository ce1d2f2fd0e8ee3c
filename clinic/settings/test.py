"""Test settings.

PostgreSQL and Redis are used when DATABASE_URL / REDIS_URL name them or when
they answer on the standard local ports; otherwise the suite runs on SQLite and
tests marked ``postgres`` / ``redis`` are skipped (or fail under
REQUIRE_SERVICES=1, see tests/conftest.py).
"""

import atexit
import os
import shutil
from pathlib import Path

from clinic.config import database_from_url, service_reachable

if not os.environ.get("DATABASE_URL") and service_reachable("127.0.0.1", 5432):
    os.environ["DATABASE_URL"] = (
        "postgres://postgres@127.0.0.1:5432/postgres"  # tests use test_postgres
    )
if not os.environ.get("REDIS_URL") and service_reachable("127.0.0.1", 6379):
    # Database 15 keeps test keys away from a developer's running app (db 0).
    os.environ["REDIS_URL"] = "redis://127.0.0.1:6379/15"

from .base import *  # noqa: E402, F403
from .base import BASE_DIR, VAR_DIR  # noqa: E402

DEBUG = False
SECRET_KEY = "test-only-key-not-secret"  # noqa: S105
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast tests
if "EMAIL_URL" not in os.environ:  # a worker started by a test may write files instead
    EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# On SQLite the test database is a file, not shared memory, so threads in the
# race tests take real locks (IMMEDIATE transactions) as the app's processes do.
_db = DATABASES["default"]  # noqa: F405
if _db["ENGINE"].endswith("sqlite3"):
    if not os.environ.get("DATABASE_URL"):
        _db.update(
            database_from_url(
                f"sqlite:///{VAR_DIR / 'test.sqlite3'}", sqlite_default=VAR_DIR / "test.sqlite3"
            )
        )
    _name = Path(_db["NAME"])
    _db["TEST"] = {"NAME": str(_name.with_name(f"test_{_name.name}"))}
# Uploaded photos go to a folder of this test run's own (var/test-media/<process id>),
# removed when it ends: never into var/media, where `make run`'s demo keeps its
# pictures. Made by the first save only, so the workers some tests start and kill
# leave no empty folder behind.
MEDIA_ROOT = VAR_DIR / "test-media" / str(os.getpid())
atexit.register(shutil.rmtree, MEDIA_ROOT, ignore_errors=True)
TEST_ARTIFACTS_DIR = BASE_DIR / "var" / "test-artifacts"
# The test client's login() calls authenticate() without a request, which
# django-axes refuses; tests of the lockout turn it back on (tests/clinic/test_sign_in_defences.py).
AXES_ENABLED = False
