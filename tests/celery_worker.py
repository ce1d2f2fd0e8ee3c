"""Start a real Celery worker process for a test or a benchmark, on a queue of its own."""

import os
import subprocess
import sys
import uuid
from pathlib import Path

from django.conf import settings
from django.db import connection

ROOT = Path(__file__).resolve().parents[1]


def worker_env(*, queue: str, settings_module: str = "clinic.settings.test", **extra: str) -> dict:
    """The environment of a worker that uses this process's database, Redis and queue."""
    db = connection.settings_dict
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE=settings_module,
        CELERY_QUEUE=queue,
        REDIS_URL=settings.REDIS_URL or "",
    )
    if db["ENGINE"].endswith("postgresql"):
        env["DATABASE_URL"] = f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
    env.update(extra)
    return env


def start_worker(
    *,
    queue: str | None = None,
    pool: str = "solo",
    concurrency: int = 1,
    settings_module: str = "clinic.settings.test",
    quiet: bool = False,
    loglevel: str = "WARNING",
    process_group: bool = False,
    hostname: str | None = None,
    **extra_env: str,
) -> subprocess.Popen:
    """A worker reading only `queue` (the tests' own), with `extra_env` on top.

    process_group: the worker and its pool in a process group of their own, which
    a test can kill at once (os.killpg), as a machine or a container dying would.
    """
    queue = queue or f"test-{uuid.uuid4().hex[:8]}"
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "clinic",
            "worker",
            f"--pool={pool}",
            f"--concurrency={concurrency}",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--loglevel={loglevel}",
            "--queues",
            queue,
            *os.environ.get("CELERY_WORKER_EXTRA_ARGS", "").split(),  # for experiments
            "--hostname",
            hostname or f"{uuid.uuid4().hex[:8]}@%h",
        ],
        cwd=ROOT,
        env=worker_env(queue=queue, settings_module=settings_module, **extra_env),
        stdout=subprocess.DEVNULL if quiet else subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=process_group,
    )


def start_beat(*, queue: str, max_interval: int = 1, **extra_env: str) -> subprocess.Popen:
    """`celery beat` with the project's DatabaseScheduler on this process's database, sending
    to `queue`: the periodic tasks a test saves in django_celery_beat's tables, on time.
    `max_interval`: how often, at most, beat looks at the schedule (seconds)."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "clinic",
            "beat",
            "--scheduler",
            "django_celery_beat.schedulers:DatabaseScheduler",
            f"--max-interval={max_interval}",
            "--loglevel=WARNING",
        ],
        cwd=ROOT,
        env=worker_env(queue=queue, **extra_env),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
