"""The Celery wiring, through a real worker process on real Redis."""

import os
import subprocess
import sys
import time
import uuid
from pathlib import Path

import pytest

from clinic.celery import app, workers_answering
from clinic.tasks import ping
from tests.celery_worker import start_worker

ROOT = Path(__file__).resolve().parents[2]
CELERY = [sys.executable, "-m", "celery", "-A", "clinic"]


def celery_env(**extra: str) -> dict:
    env = dict(os.environ, DJANGO_SETTINGS_MODULE="clinic.settings.test")
    env.update(extra)
    return env


@pytest.mark.redis
def test_ping_round_trip_through_a_real_worker():
    queue = f"test-{uuid.uuid4().hex[:8]}"  # our own queue: no other worker takes it
    worker = start_worker(queue=queue)
    try:
        result = ping.apply_async(queue=queue)
        assert result.get(timeout=30) == "pong"
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert "Traceback" not in output


@pytest.mark.redis
def test_a_running_worker_answers_with_its_start_id_and_vouches_for_no_other():
    """What the reminder dispatcher asks before releasing a worker's claims."""
    name = f"test-{uuid.uuid4().hex[:8]}@localhost"
    worker = start_worker(hostname=name)
    try:
        deadline, replies = time.monotonic() + 60, []
        while not replies and time.monotonic() < deadline:
            replies = app.control.broadcast(
                "clinic_worker_id", destination=[name], reply=True, timeout=1
            )
        (worker_id,) = [reply[name]["ok"] for reply in replies]
        before_a_restart = f"{name} 000000000000"
        assert worker_id.startswith(f"{name} ") and worker_id != before_a_restart
        assert workers_answering({worker_id, before_a_restart}) == {worker_id}
    finally:
        worker.terminate()
        output, _ = worker.communicate(timeout=30)
    assert workers_answering({worker_id}, timeout=0.5) == set()
    assert "Traceback" not in output


def test_celery_is_configured_for_at_least_once_delivery():
    conf = app.conf
    assert conf.task_acks_late is True
    assert conf.worker_prefetch_multiplier == 1
    assert conf.task_serializer == "json"
    assert conf.accept_content == ["json"]
    assert conf.task_time_limit and conf.task_soft_time_limit < conf.task_time_limit
    assert conf.beat_scheduler == "django_celery_beat.schedulers:DatabaseScheduler"
    assert "clinic.ping" in app.tasks


@pytest.mark.parametrize("command", ["worker", "beat"])
def test_worker_and_beat_stop_with_one_line_when_the_broker_is_down(command, tmp_path):
    started = time.monotonic()
    result = subprocess.run(
        [
            *CELERY,
            command,
            "--loglevel=WARNING",
            *(["--pool=solo"] if command == "worker" else ["--schedule", str(tmp_path / "s")]),
        ],
        cwd=ROOT,
        env=celery_env(REDIS_URL="redis://127.0.0.1:1/0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    lines = [line for line in result.stderr.splitlines() if line.startswith("clinic:")]
    assert len(lines) == 1, result.stderr
    assert "cannot start: the broker at redis://127.0.0.1:1 does not answer" in lines[0]
    assert "Traceback" not in result.stderr
    assert time.monotonic() - started < 30


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_worker_keeps_its_database_connection_between_tasks_until_it_is_old():
    """Celery's Django fixup would close it around every task: a new backend per reminder."""
    from celery import signals
    from django.db import connection

    assert app.conf.db_reuse_max >= 100  # turns off the fixup's close around every task

    def one_task():
        signals.task_prerun.send(sender=ping, task_id="t", task=ping, args=(), kwargs={})
        signals.task_postrun.send(sender=ping, task_id="t", task=ping, args=(), kwargs={})

    connection.close()  # a fresh connection: one left by an earlier test may be near its age
    connection.ensure_connection()
    opened = connection.connection
    one_task()
    assert connection.connection is opened
    connection.close_at = time.monotonic() - 1  # past CONN_MAX_AGE
    one_task()
    assert connection.connection is None
