"""Settings for a worker that SIGKILLs its whole process group mid-burst, once
(tests/booking/test_reminder_crash.py).

Its dispatcher hands out KILL_AFTER_HANDED send tasks; before the next one it
waits until the pool has sent KILL_WHEN_SENT rows, then kills the worker and its
pool at once: the rest of the batch is claimed and never handed to a task, and
the send under way dies where it is.
"""

import os
import signal
import time

from celery import signals

from clinic.settings.test import *  # noqa: F403

_handed = [0]


@signals.before_task_publish.connect
def _kill_mid_burst(sender=None, **_kwargs):
    if sender != "booking.reminder_send":
        return
    _handed[0] += 1
    if _handed[0] <= int(os.environ["KILL_AFTER_HANDED"]):
        return
    from booking.models import Reminder

    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        if Reminder.objects.filter(status="sent").count() >= int(os.environ["KILL_WHEN_SENT"]):
            break
        time.sleep(0.01)
    os.killpg(os.getpgrp(), signal.SIGKILL)
