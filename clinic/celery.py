"""The project's Celery app: settings from Django (CELERY_*), tasks autodiscovered.

The worker and beat check the broker when they start and stop with one clear
line when it does not answer; the web process never waits for the broker.
"""

import os
import sys

from celery import Celery, signals
from celery.apps.beat import Beat

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
