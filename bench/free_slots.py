"""Benchmark: the free-slot computation alone (pytest-benchmark), median over many rounds.

Runs bench/test_free_slots_benchmark.py with pytest-benchmark, which writes
var/bench/free_slots.json; prints the median. Target: median <= 1 ms.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench"
QUICK = os.environ.get("QUICK", "").strip() not in ("", "0")
TARGET_MS = 1.0


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    report = OUT / "free_slots.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "bench/test_free_slots_benchmark.py",
            "-q",
            "-p",
            "no:cacheprovider",
            "--benchmark-only",
            f"--benchmark-json={report}",
            f"--benchmark-max-time={0.5 if QUICK else 3}",
            "--benchmark-min-rounds=20",
            "--benchmark-columns=min,median,mean,max,rounds",
            "--benchmark-time-unit=ms",
        ],
        cwd=ROOT,
    )
    if done.returncode:
        return done.returncode
    stats = json.loads(report.read_text())["benchmarks"][0]["stats"]
    median_ms = stats["median"] * 1000
    verdict = "meets" if median_ms <= TARGET_MS else "MISSES"
    print(
        f"free slots alone, 12 weeks: median {median_ms:.3f} ms over {stats['rounds']} rounds "
        f"({verdict} the {TARGET_MS:g} ms target)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
