"""make run's worker is restarted when it dies, and stops cleanly when asked."""

import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def start(tmp_path, script: str) -> subprocess.Popen:
    child = tmp_path / "child.py"
    child.write_text(script)
    return subprocess.Popen(
        [sys.executable, "-m", "clinic.keep_running", sys.executable, str(child)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def wait_for(path: Path, lines: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if path.exists() and len(path.read_text().splitlines()) >= lines:
            return
        time.sleep(0.05)
    raise AssertionError(f"{path} has not {lines} lines")


def test_a_command_that_dies_is_started_again_and_said_so(tmp_path):
    starts = tmp_path / "starts"
    runner = start(
        tmp_path,
        "import sys, time\n"
        f"with open({str(starts)!r}, 'a') as f: f.write('start\\n')\n"
        f"if len(open({str(starts)!r}).read().splitlines()) == 1: sys.exit(3)\n"
        "time.sleep(60)\n",
    )
    wait_for(starts, 2)  # died once with code 3, then started again
    runner.send_signal(signal.SIGTERM)
    out, _ = runner.communicate(timeout=15)
    assert runner.returncode == 0
    assert "stopped unexpectedly (exit code 3)" in out and "the site keeps running" in out
    assert len(starts.read_text().splitlines()) == 2


def test_ctrl_c_stops_the_command_and_exits_cleanly(tmp_path):
    started = tmp_path / "started"
    runner = start(
        tmp_path,
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *a: sys.exit(0))\n"
        f"open({str(started)!r}, 'w').write('up\\n')\n"
        "time.sleep(60)\n",
    )
    wait_for(started, 1)
    runner.send_signal(signal.SIGINT)
    out, _ = runner.communicate(timeout=15)
    assert runner.returncode == 0 and "unexpectedly" not in out
