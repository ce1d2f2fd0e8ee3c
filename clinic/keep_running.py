"""`make run`'s worker, kept running: `python -m clinic.keep_running <command...>`.

honcho (Procfile.dev) stops every process when one of them ends, so a Celery
worker that died used to take the web server and beat down with it. This
runs the command, and when it ends without being asked to (a crash, an
out-of-memory kill), says so plainly and starts it again after a pause. If it
keeps dying (5 times in a minute) it stops trying and says what to do; the
site stays up either way. SIGINT or SIGTERM (Ctrl-C, honcho stopping) is
passed on; a command still running 4 s later is killed, and this exits 0.

Standalone (the standard library only): it runs before Django is loaded.
"""

import signal
import subprocess
import sys
import time

PAUSE_SECONDS = 2
MOST_RESTARTS, WITHIN_SECONDS = 5, 60
STOP_SECONDS = 4


def say(text: str) -> None:
    print(f"keep_running: {text}", flush=True)


def _wait(child: subprocess.Popen, stopping) -> int:
    """The child's exit code. Once asked to stop it has STOP_SECONDS, then is killed: honcho
    kills this process after 5 s, and a Celery worker on the filesystem broker takes about
    4 s to finish a warm shutdown."""
    asked = None
    while True:
        try:
            return child.wait(timeout=0.2)
        except subprocess.TimeoutExpired:
            if stopping():
                asked = asked or time.monotonic()
                if time.monotonic() - asked > STOP_SECONDS:
                    child.kill()
                    return child.wait()


def main(command: list[str], *, pause: float = PAUSE_SECONDS) -> int:
    if not command:
        say("usage: python -m clinic.keep_running <command> [args...]")
        return 2
    stopping = 0  # the signal that asked to stop
    child: subprocess.Popen | None = None

    def stop(signum, _frame):
        nonlocal stopping
        stopping = signum
        if child is not None and child.poll() is None:
            child.send_signal(signum)  # once: the command has a process group of its own

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    name = command[0].rsplit("/", 1)[-1]
    restarts: list[float] = []
    while not stopping:
        # Its own process group: honcho signals this one's, so the command hears each
        # signal once, from here (twice, Celery says "Warm shutdown" twice).
        child = subprocess.Popen(command, start_new_session=True)  # noqa: S603 - the Procfile's
        code = _wait(child, lambda: stopping)
        if stopping:
            break
        now = time.monotonic()
        restarts = [t for t in restarts if now - t < WITHIN_SECONDS] + [now]
        if len(restarts) > MOST_RESTARTS:
            say(
                f"{name} stopped {len(restarts)} times in a minute (exit code {code}); not "
                "starting it again. The site keeps running, but reminders and emails wait "
                "until it is back: look above for its error, then restart make run."
            )
            while not stopping:
                time.sleep(1)
            break
        say(
            f"{name} stopped unexpectedly (exit code {code}). Starting it again in "
            f"{pause:g} seconds; the site keeps running."
        )
        deadline = time.monotonic() + pause
        while not stopping and time.monotonic() < deadline:
            time.sleep(0.1)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
