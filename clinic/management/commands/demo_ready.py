"""`make run`'s last word: once the site and the worker answer, say where to go and how to sign in.

The demo logins printed by seed_demo scroll away under the server's output;
this waits until the web server answers /healthz and a Celery worker runs
`clinic.ping`, prints the address and the logins again, then waits quietly
until make run stops (SIGINT or SIGTERM from honcho: exit 0).
"""

import signal
import time
import urllib.request

from django.conf import settings
from django.core.management.base import BaseCommand

from clinic import demo
from clinic.tasks import ping

WAIT_SECONDS = 90


def site_answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/healthz", timeout=2):  # noqa: S310 - our own URL
            return True
    except OSError as error:  # a 503 still answers: the page says what is down
        return getattr(error, "code", None) is not None


def worker_answers() -> bool:
    try:
        return ping.apply_async(expires=10).get(timeout=5) == "pong"
    except Exception:  # noqa: BLE001 - not up yet, whatever the broker says
        return False


class Command(BaseCommand):
    help = "Wait for make run's processes, then print the site's address and the demo logins."

    def handle(self, *args, **options):
        stopping = []
        for each in (signal.SIGINT, signal.SIGTERM):
            signal.signal(each, lambda *_: stopping.append(True))
        url = settings.SITE_URL.rstrip("/")
        deadline = time.monotonic() + WAIT_SECONDS
        site = worker = False
        while not stopping and time.monotonic() < deadline and not (site and worker):
            site = site or site_answers(url)
            worker = worker or (site and worker_answers())
            if not (site and worker):
                time.sleep(1)
        if stopping:
            return
        lines = ["", "=" * 72]
        if site and worker:
            lines.append("Ready: the web server, the Celery worker and beat are running.")
        elif site:
            lines.append(
                "The site is up; the Celery worker has not answered yet (see its lines "
                "above). Emails and reminders wait until it does."
            )
        else:
            lines.append("The web server has not answered yet: see its lines above.")
        lines += [
            f"  Clinic app:  {url}/",
            f"  Admin:       {url}/admin/",
            *demo.login_lines(),
            "  Emails: var/mail/, one .eml file each, named by time, recipient and subject.",
            "  Ctrl-C stops everything.",
            "=" * 72,
        ]
        self.stdout.write("\n".join(lines))
        self.stdout.flush()
        while not stopping:
            time.sleep(0.5)
