"""Benchmark settings: the app as production serves it, for gunicorn under `make bench`.

bench/server.py starts gunicorn with these against the benchmark's scratch
database (its DATABASE_URL) and Redis. They are the test settings (same
SECRET_KEY, so a session made by the benchmark's own process is valid here)
made production-like: DEBUG off, static files collected and served by
whitenoise from the manifest (no finders, no autorefresh), logging at WARNING,
and a URLconf that adds the benchmark's own endpoints (bench/urls.py).
Never used outside the benchmarks.
"""

import os

from clinic.settings.test import *  # noqa: F403
from clinic.settings.test import CACHES, VAR_DIR

DEBUG = False
ROOT_URLCONF = "bench.urls"
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]

# As in production: hashed, compressed files, served from STATIC_ROOT; gzip
# only, as brotli at its best setting spends half a minute of CPU per run.
STATIC_ROOT = os.environ.get("BENCH_STATIC_ROOT", str(VAR_DIR / "bench" / "static"))
WHITENOISE_USE_FINDERS = False
WHITENOISE_AUTOREFRESH = False
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "bench.static_storage.GzipManifestStaticFilesStorage"},
}

# Each run's keys apart from the app's and the tests' (bench/server.py removes them).
if "KEY_PREFIX" in CACHES["default"]:
    CACHES["default"]["KEY_PREFIX"] = os.environ.get("BENCH_CACHE_PREFIX", "clinic-bench")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
