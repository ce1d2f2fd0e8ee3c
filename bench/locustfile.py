"""Locust: patients booking 3-session courses at once (run by bench/http.py).

Each iteration is a new patient who books one course through the benchmark's
JSON endpoint (bench/urls.py: the real planner and booking service),
then waits 1 to 3 seconds. A 409 (the time was just taken by someone
else) is a correct answer, counted apart; anything else that is not 2xx is an
error. The outcomes and the request figures are written to
$BENCH_LOCUST_OUTCOMES when the run stops.

Not imported by Django: locust runs it in its own process.
"""

import json
import os
from collections import Counter, defaultdict

from locust import HttpUser, between, events, task

BOOK = "book a 3-session course"
outcomes: Counter = Counter()
timings: defaultdict = defaultdict(list)  # outcome -> response times (ms)


class Patient(HttpUser):
    # Between bookings; 20 patients each booking a course every 2 s or so is
    # about 30,000 courses an hour, far beyond any clinic's day.
    wait_time = between(1, 3)

    @task
    def book_a_course(self):
        with self.client.post("/bench/patients/", name="new patient", catch_response=True) as r:
            if r.status_code != 201:
                r.failure(f"status {r.status_code}")
                return
            patient = r.json()["patient"]
        with self.client.post(
            "/bench/courses/",
            data={"patient": patient, "sessions": 3},
            name=BOOK,
            catch_response=True,
        ) as r:
            if r.status_code in (200, 201, 409):
                result = r.json()["result"]
                outcomes[result] += 1
                timings[result].append(r.request_meta["response_time"])
                r.success()
            else:
                outcomes["error"] += 1
                r.failure(f"status {r.status_code}: {r.text[:200]}")


def _p95(times: list) -> float | None:
    return round(sorted(times)[int(0.95 * (len(times) - 1))]) if times else None


@events.test_stop.add_listener
def _write_outcomes(environment, **_kwargs):
    """After every user finished its last booking (--stop-timeout): the figures, as JSON."""
    path = os.environ.get("BENCH_LOCUST_OUTCOMES")
    if not path:
        return
    stats = {}
    for entry in [*environment.stats.entries.values(), environment.stats.total]:
        stats[entry.name] = {
            "requests": entry.num_requests,
            "failures": entry.num_failures,
            "median_ms": entry.get_response_time_percentile(0.5),
            "p95_ms": entry.get_response_time_percentile(0.95),
            "p99_ms": entry.get_response_time_percentile(0.99),
            "max_ms": round(entry.max_response_time or 0),
            "rps": round(entry.total_rps, 1),
        }
    errors = {
        f"{e.method} {e.name}: {e.error}": e.occurrences for e in environment.stats.errors.values()
    }
    by_outcome = {
        result: {"count": len(times), "p95_ms": _p95(times)} for result, times in timings.items()
    }
    with open(path, "w") as out:
        json.dump(
            {
                "outcomes": dict(outcomes),
                "by_outcome": by_outcome,
                # The attempts that did a booking's whole work: booked, or found the time taken.
                "bookings_p95_ms": _p95(timings["booked"] + timings["taken"]),
                "stats": stats,
                "errors": errors,
            },
            out,
            indent=2,
        )
