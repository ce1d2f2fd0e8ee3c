"""The project's Celery app: settings from Django (CELERY_*), tasks autodiscovered.

The worker and beat check the broker when they start and stop with one clear
line when it does not answer; the web process never waits for the broker.
Each worker has an identity for the reminder claims it holds (`worker_id`),
and answers who it is when asked (`workers_answering`).
"""

import os
import sys
import uuid

from celery import Celery, signals
from celery.apps.beat import Beat
from celery.worker.control import inspect_command

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "clinic.settings.development")

app = Celery("clinic")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def broker_check_or_exit(process: str) -> None:
    from clinic.health import broker_status

    status = broker_status()
    if status["ok"]:
        return
    print(
        f"clinic: {process} cannot start: the broker at {status['where']} does not answer"
        f" ({status['error']})",
        # The real stderr: by now Celery may have redirected sys.stderr to its logger.
        file=sys.__stderr__,
        flush=True,
    )
    # os._exit: Celery would catch SystemExit here and print a traceback.
    os._exit(1)


@signals.celeryd_init.connect
def _worker_broker_check(**_kwargs):
    broker_check_or_exit("the Celery worker")


_identity = {"worker": ""}


@signals.celeryd_init.connect
def _worker_identity(sender=None, **_kwargs):
    # In the worker's main process, before the pool forks: its children share it.
    _identity["worker"] = f"{sender} {uuid.uuid4().hex[:12]}"


def worker_id() -> str:
    """This worker's name and start id; "" outside a worker.

    The start id tells a restarted worker from the one before it, which had the
    same name (a container's hostname, `worker@%h`) and is gone with its claims.
    """
    return _identity["worker"]


@inspect_command(name="clinic_worker_id")
def _answer_worker_id(state, **_kwargs):
    # Answered by the worker's main process, even while its pool is busy (not
    # the solo pool's: it answers between tasks).
    return {"ok": worker_id()}


def workers_answering(worker_ids: set[str], *, timeout: float = 1.0) -> set[str] | None:
    """Which of these workers answer now (by name and start id); None when nobody could be asked."""
    names = sorted({worker.split(" ")[0] for worker in worker_ids})
    try:
        replies = app.control.broadcast(
            "clinic_worker_id",
            destination=names,
            reply=True,
            timeout=timeout,
            limit=len(names),  # all answered: no need to wait out the timeout
        )
    except Exception:  # noqa: BLE001 - a broker that cannot be asked says nothing about workers
        return None
    answered = {answer.get("ok") for reply in replies for answer in reply.values()}
    return answered & set(worker_ids)


@signals.task_prerun.connect
@signals.task_postrun.connect
def _close_old_connections(sender=None, **_kwargs):
    """What Django does around each request: drop connections past CONN_MAX_AGE or broken.

    Eager tasks run inside their caller's transaction, which must be left alone.
    """
    if sender is not None and getattr(sender.request, "is_eager", False):
        return
    from django.db import close_old_connections

    close_old_connections()


class CheckedBeat(Beat):
    """Beat that checks the broker before its scheduler touches the database."""

    def run(self):
        broker_check_or_exit("Celery beat")
        return super().run()


# `celery beat` builds its service from app.Beat; ours checks the broker first
# (the beat_init signal comes only after the banner has opened the schedule).
app.Beat = app.subclass_with_self(CheckedBeat)
