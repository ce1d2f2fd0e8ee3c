"""Shared by the benchmarks: a throw-away database, timing, and the report."""

import hashlib
import json
import logging
import os
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.test")

import django  # noqa: E402

django.setup()
logging.disable(logging.INFO)  # the app's info lines (bookings, sign-ins) would bury the tables

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

OUT = Path("var/bench")
# `make bench QUICK=1`: every benchmark for a few seconds on less data, so CI
# runs them all (none rots); the figures are then only a smoke signal.
QUICK = os.environ.get("QUICK", "").strip() not in ("", "0")


def _migrations_digest() -> str:
    """Changes when any installed app's migrations do (the project's or a package's)."""
    from django.apps import apps

    digest = hashlib.sha256()
    for app in sorted(apps.get_app_configs(), key=lambda a: a.label):
        for path in sorted(Path(app.path).glob("migrations/*.py")):
            digest.update(f"{app.label}/{path.name}".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def _template_database() -> tuple[str, bool]:
    """(name of a migrated template database for this test database, does it exist yet)."""
    creation = connection.creation
    prefix = f"{creation._get_test_db_name()}_tpl_"
    name = prefix + _migrations_digest()
    with creation._nodb_cursor() as cursor:
        cursor.execute("SELECT datname FROM pg_database WHERE datname LIKE %s", [prefix + "%"])
        found = {row[0] for row in cursor.fetchall()}
        for stale in found - {name}:  # migrations changed since it was made
            cursor.execute(f'DROP DATABASE IF EXISTS "{stale}"')
    return name, name in found


@contextmanager
def scratch_database():
    """A fresh test database (migrated), dropped afterwards.

    On PostgreSQL the first run also keeps a migrated copy as a template, and
    later runs copy it (CREATE DATABASE ... TEMPLATE) instead of migrating
    from nothing: a second each instead of ten. A new migration makes a new one.
    """
    template, ready = _template_database() if connection.vendor == "postgresql" else (None, False)
    if ready:
        connection.settings_dict["TEST"]["TEMPLATE"] = template
    old = setup_databases(verbosity=0, interactive=False)
    connection.settings_dict["TEST"].pop("TEMPLATE", None)
    if template and not ready:
        connection.close()  # a template must have no connection while it is copied
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(
                f'CREATE DATABASE "{template}" WITH TEMPLATE "{connection.settings_dict["NAME"]}"'
            )
    try:
        yield
    finally:
        teardown_databases(old, verbosity=0)


def timed(fn, repeats: int) -> dict:
    """Median and 90th percentile of `repeats` calls, in milliseconds."""
    fn()  # warm
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        fn()
        timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    return {
        "median_ms": round(statistics.median(timings), 3),
        "p90_ms": round(timings[max(0, int(repeats * 0.9) - 1)], 3),
    }


def needs_postgres(name: str) -> bool:
    if connection.vendor != "postgresql":
        print(f"{name}: needs PostgreSQL (set DATABASE_URL or start it on 127.0.0.1:5432)")
        return False
    return True


def write(name: str, data: dict) -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / f"{name}.json").write_text(json.dumps(data, indent=2, default=str))
