"""Shared by the benchmarks: a throw-away database, timing, and the report."""

import json
import os
import statistics
import time
from contextlib import contextmanager
from pathlib import Path

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.test")

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import setup_databases, teardown_databases  # noqa: E402

OUT = Path("var/bench")


@contextmanager
def scratch_database():
    """A fresh test database (migrated), dropped afterwards."""
    old = setup_databases(verbosity=0, interactive=False)
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
