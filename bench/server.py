"""The app served as in production, for the HTTP benchmarks.

`served()` makes a scratch PostgreSQL database (bench.common), loads the demo
data into it with seed_demo's seeders, collects the static files into a
temporary STATIC_ROOT (whitenoise's compressed manifest, as in production),
and starts gunicorn with 3 sync workers on a free loopback port, pointed at
that database and at Redis with bench.settings. Everything is stopped
and removed on the way out.
"""

import copy
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
import uuid
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from bench.common import OUT, scratch_database

from django.conf import settings
from django.db import connection
from django.test.utils import override_settings

ROOT = Path(__file__).resolve().parents[1]
WORKERS = 3
SETTINGS = "bench.settings"


@dataclass(frozen=True)
class Server:
    url: str  # http://127.0.0.1:<port>
    pid: int
    static_root: Path
    env: dict


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def seed() -> None:
    """The demo clinic, as `make run` shows it (seed_demo's seeders, in order)."""
    from django.db import transaction

    from clinic.management.commands.seed_demo import SEEDERS

    with transaction.atomic():
        for seeder in SEEDERS:
            seeder()
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def server_env(static_root: Path, cache_prefix: str) -> dict:
    """gunicorn's environment: this process's scratch database and Redis."""
    db = connection.settings_dict
    return dict(
        os.environ,
        DJANGO_SETTINGS_MODULE=SETTINGS,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        REDIS_URL=settings.REDIS_URL or "",
        BENCH_STATIC_ROOT=str(static_root),
        BENCH_CACHE_PREFIX=cache_prefix,
        PYTHONUNBUFFERED="1",
    )


def shared_caches(prefix: str) -> dict:
    caches = copy.deepcopy(settings.CACHES)
    if "KEY_PREFIX" in caches["default"]:
        caches["default"]["KEY_PREFIX"] = prefix
    return caches


def wait_until_answering(url: str, proc: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"gunicorn stopped at start (exit {proc.returncode}), see its log")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - loopback
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise RuntimeError(f"gunicorn did not answer {url} within {timeout:.0f} s")


def forget_cache(prefix: str) -> None:
    """Remove this run's cache keys from Redis (pages, rows, versions, sessions)."""
    if not settings.REDIS_URL:
        return
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}:*", count=1000))
    for start in range(0, len(keys), 1000):
        client.delete(*keys[start : start + 1000])


def _exit_on_sigterm(signum, _frame):
    raise SystemExit(128 + signum)  # unwinds: gunicorn stopped, scratch database dropped


@contextmanager
def served(workers: int = WORKERS):
    """A Server on a seeded scratch database; the caller's Django uses the same database."""
    signal.signal(signal.SIGTERM, _exit_on_sigterm)
    started = time.perf_counter()
    with scratch_database():
        print(f"  scratch database ready ({time.perf_counter() - started:.0f} s)", flush=True)
        seed()
        print(f"  demo data loaded ({time.perf_counter() - started:.0f} s)", flush=True)
        static_root = Path(tempfile.mkdtemp(prefix="clinic-bench-static-"))
        prefix = f"bench-{uuid.uuid4().hex[:8]}"
        env = server_env(static_root, prefix)
        OUT.mkdir(parents=True, exist_ok=True)
        proc = None
        try:
            subprocess.run(
                [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
                cwd=ROOT,
                env=env,
                check=True,
            )
            print(f"  static files collected ({time.perf_counter() - started:.0f} s)", flush=True)
            port = free_port()
            with (OUT / "gunicorn.log").open("w") as log:
                proc = subprocess.Popen(
                    [
                        str(Path(sys.executable).with_name("gunicorn")),
                        "clinic.wsgi:application",
                        "--workers",
                        str(workers),
                        "--bind",
                        f"127.0.0.1:{port}",
                        "--log-level",
                        "warning",
                    ],
                    cwd=ROOT,
                    env=env,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            url = f"http://127.0.0.1:{port}"
            wait_until_answering(f"{url}/bench/minimal/", proc)
            print(f"  gunicorn answers ({time.perf_counter() - started:.0f} s)", flush=True)
            # This process writes too (practitioners, bookings): its saves must move
            # on the versions gunicorn reads, so it shares gunicorn's cache keys.
            with override_settings(CACHES=shared_caches(prefix)):
                yield Server(url=url, pid=proc.pid, static_root=static_root, env=env)
        finally:
            if proc is not None:
                proc.terminate()
                try:
                    proc.wait(timeout=30)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
            shutil.rmtree(static_root, ignore_errors=True)
            forget_cache(prefix)
            connection.close()  # before the test database is dropped
