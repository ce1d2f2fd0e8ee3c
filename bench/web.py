"""Benchmark: the app over HTTP, as production serves it, on this 2-core machine.

gunicorn with 3 sync workers (persistent PostgreSQL connections, Redis cache)
on a scratch database with the demo data (bench/server.py); the load comes
from wrk and locust in other processes on loopback. Every throughput is a
ratio to the smallest Django view (bench/urls.py) served by the same
gunicorn, measured just before it, so the figures say what the pages cost,
not how busy the machine was that minute. Beside each, the server's CPU time
per request (gunicorn and its PostgreSQL backends), which other work on the
machine hardly moves. The cold treatment page moves the content version on
before each request (as an editor's save does): nothing kept is used, the
page is rendered and read from the database. The public pages are kept whole as visitors see them
(education/page_cache.py); a signed-in patient gets the kept page with the
site header (their menu and sign-out form) rendered for them: both are
measured, the signed-in ones against the same targets. Query counts come
from the test client on the same database.

Targets (the performance issue), as ratios to the minimal view:
static file through whitenoise >= 1.0; treatment page (<= 6 queries) >= 0.18;
treatment page kept >= 0.45; article list >= 0.15; the slot
picker (a strip of days and one day's times) >= 0.10 with p99 < 200 ms at 16 connections.
Booking a 3-session course under locust (20 users, 60 s): zero errors, zero
double bookings, p95 < 500 ms.
"""

import http.client
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
from pathlib import Path
from urllib.parse import urlsplit

from bench.common import OUT, QUICK, needs_postgres, write

from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

SECONDS = 1 if QUICK else 10  # each URL, after a 1-second warm-up
BASE_SECONDS = 1 if QUICK else 5  # the minimal view, just before each URL
CONNECTIONS = 16
THREADS = 2
LOCUST_USERS = 20
LOCUST_SECONDS = 5 if QUICK else 60
TREATMENT = "microneedling"
BOOK = "book a 3-session course"  # the request's name in bench/locustfile.py
EXTRA_PRACTITIONERS = 6
WRK_MISSING = "wrk is not installed (apt-get install wrk): the page throughputs were not measured"

TARGETS = {
    "static": 1.0,
    "treatment": 0.18,
    "treatment_cached": 0.45,
    "treatment_signed_in": 0.45,
    "articles": 0.15,
    "articles_signed_in": 0.15,
    "picker": 0.10,
}
PICKER_P99_MS = 200
TREATMENT_QUERIES = 6
BOOKING_P95_MS = 500

_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _ms(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return round(float(number) * _UNITS_MS[unit], 2)


def parse_wrk(output: str) -> dict:
    """Requests per second, latency percentiles (ms) and errors from `wrk --latency`."""
    result = {"rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))}
    for pct, value in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+\w+)\s*$", output, re.M):
        result[f"p{pct}_ms"] = _ms(value)
    result["requests"] = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    result["non_2xx"] = int(bad.group(1)) if bad else 0
    sockets = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output
    )
    result["socket_errors"] = (
        dict(zip(("connect", "read", "write", "timeout"), map(int, sockets.groups()), strict=True))
        if sockets
        else {}
    )
    return result


def wrk(url: str, seconds: int, headers: dict) -> dict:
    args = ["wrk", f"-t{THREADS}", f"-c{CONNECTIONS}", "--latency", "--timeout", "10s"]
    for name, value in headers.items():
        args += ["-H", f"{name}: {value}"]
    done = subprocess.run([*args, f"-d{seconds}s", url], check=True, capture_output=True, text=True)
    return parse_wrk(done.stdout)


def _cpu_ticks(pid: int) -> tuple[int, int]:
    """(parent pid, user + system CPU ticks) of a process, from /proc."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0, 0
    return int(fields[1]), int(fields[11]) + int(fields[12])


def server_cpu_ms(master_pid: int) -> float:
    """CPU time used so far by gunicorn (master and workers) and their PostgreSQL backends.

    Unlike requests per second, this hardly moves when other work shares the
    machine: the cost of a request, whatever the load around it.
    """
    pids = {master_pid}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _cpu_ticks(int(entry.name))[0] == master_pid:
            pids.add(int(entry.name))
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid()"
        )
        pids.update(row[0] for row in cursor.fetchall())
    return sum(_cpu_ticks(pid)[1] for pid in pids) * 1000 / os.sysconf("SC_CLK_TCK")


def measured(server, path: str, seconds: int, headers: dict, *, warm_up: bool = True) -> dict:
    """wrk on one URL, with the server's CPU time per request beside it."""
    if warm_up:  # every worker's first requests (imports, templates, caches) not counted
        wrk(server.url + path, 1, headers)
    before = server_cpu_ms(server.pid)
    result = wrk(server.url + path, seconds, headers)
    used = server_cpu_ms(server.pid) - before
    result["server_cpu_ms"] = round(used / max(1, result["requests"]), 2)
    return result


def get_once(url: str, headers: dict) -> tuple[int, str]:
    """One request, redirects not followed: a 302 must not pass for the page."""
    parts = urlsplit(url)
    conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    try:
        conn.request(
            "GET", parts.path + (f"?{parts.query}" if parts.query else ""), headers=headers
        )
        response = conn.getresponse()
        return response.status, response.read().decode("utf-8", "replace")
    finally:
        conn.close()


def journey_to_picker(client: Client) -> None:
    """Walk the patient journey to the first session's time picker."""
    from education.models import Treatment

    treatment = Treatment.objects.get(slug=TREATMENT)
    steps = [
        client.get(f"/book/treatment/{TREATMENT}/"),
        client.post("/book/course/", {"sessions": 3}),
        client.post("/book/questions/", {f"q{q.pk}": "no" for q in treatment.questions.all()}),
        client.post("/book/practitioner/", {"practitioner": "any"}),
    ]
    assert steps[-1].status_code == 302 and steps[-1]["Location"] == "/book/time/", [
        (s.status_code, s.get("Location")) for s in steps
    ]


def signed_in_patient() -> Client:
    """A test client signed in as a patient of the demo clinic (a session gunicorn accepts)."""
    from booking.models import Patient

    client = Client()
    client.force_login(Patient.objects.filter(user__isnull=False).select_related("user")[0].user)
    return client


def query_counts(client: Client, patient: Client) -> dict:
    """Queries per page as measured (a page's second request), through the test client."""
    from clinic import caching

    def count(path: str, who: Client = client, *, cold: bool = False) -> int:
        assert who.get(path).status_code == 200  # the clinic's details, rules, kept rows
        if cold:
            caching.bump(caching.CONTENT)
        with CaptureQueriesContext(connection) as captured:
            response = who.get(path)
        assert response.status_code == 200, (path, response.status_code)
        return len(captured)

    treatment = f"/treatments/{TREATMENT}/"
    visitor = Client()  # as wrk asks: no cookie
    return {
        "treatment": count(treatment, visitor, cold=True),
        "treatment_cached": count(treatment, visitor),
        "treatment_signed_in": count(treatment, patient),
        "articles": count("/articles/", visitor),
        "articles_signed_in": count("/articles/", patient),
        "picker": count("/book/time/"),
    }


def static_path(static_root: Path, name: str) -> str:
    manifest = json.loads((static_root / "staticfiles.json").read_text())
    return f"/static/{manifest['paths'][name]}"


def pages(server, session_cookie: str, patient_cookie: str) -> dict:
    """Throughput and latency of each URL under wrk, 16 connections."""
    browser = {"Accept-Encoding": "gzip, deflate, br", "Accept": "text/html"}
    picker_headers = {**browser, "Cookie": session_cookie}
    patient = {**browser, "Cookie": patient_cookie}
    urls = {
        "minimal": ("/bench/minimal/", browser, "ok"),
        "static": (static_path(server.static_root, "css/site.css"), browser, "{"),
        "treatment": (f"/bench/cold/treatments/{TREATMENT}/", browser, "<h1>"),
        "treatment_cached": (f"/treatments/{TREATMENT}/", browser, "<h1>"),
        "treatment_signed_in": (f"/treatments/{TREATMENT}/", patient, "Sign out"),
        "articles": ("/articles/", browser, "<h1"),
        "articles_signed_in": ("/articles/", patient, "Sign out"),
        "picker": ("/book/time/", picker_headers, 'name="slot"'),
    }
    for name, (path, headers, marker) in urls.items():
        status, body = get_once(server.url + path, {**headers, "Accept-Encoding": "identity"})
        if status != 200 or marker not in body:
            raise RuntimeError(f"{name}: {path} answered {status} without {marker!r}")
    # Each URL right after its own run of the minimal view, and the ratio to
    # that: a machine that slows down half-way (other work) shifts both alike.
    minimal_path, minimal_headers, _ = urls.pop("minimal")
    wrk(server.url + minimal_path, 1, minimal_headers)  # warm-up
    results = {"minimal_runs": []}
    for name, (path, headers, _) in urls.items():
        base = measured(server, minimal_path, BASE_SECONDS, minimal_headers, warm_up=False)
        results["minimal_runs"].append(base)
        page = measured(server, path, SECONDS, headers)
        results[name] = {
            "path": path,
            **page,
            "minimal_rps": base["rps"],
            "ratio": round(page["rps"] / base["rps"], 3),
            "minimal_server_cpu_ms": base["server_cpu_ms"],
            # The throughput ratio the CPU costs give when nothing else runs.
            "cpu_ratio": round(base["server_cpu_ms"] / max(0.01, page["server_cpu_ms"]), 3),
        }
        print(
            f"  {name:<17} {page['rps']:>8.1f} req/s, minimal view {base['rps']:>7.1f} req/s: "
            f"{results[name]['ratio']:.3f}x; server CPU {page['server_cpu_ms']:.2f} ms a request "
            f"(minimal view {base['server_cpu_ms']:.2f} ms)",
            flush=True,
        )
    results["base_rps"] = round(statistics.median(r["rps"] for r in results["minimal_runs"]), 1)
    return results


def double_bookings() -> dict:
    """Overlapping active sessions, per practitioner and per patient (the database's view)."""
    from booking.models import Course, Session

    table = Session._meta.db_table
    found = {}
    for who in ("practitioner_id", "patient_id"):
        with connection.cursor() as cursor:
            cursor.execute(
                f"""
                SELECT count(*) FROM {table} a JOIN {table} b
                  ON a.id < b.id AND a.{who} = b.{who}
                 AND a.start < b."end" AND b.start < a."end"
                WHERE a.status <> 'cancelled' AND b.status <> 'cancelled'
                """  # noqa: S608 - names from the model, no input
            )
            found[who.removesuffix("_id")] = cursor.fetchone()[0]
    bench = Course.objects.filter(patient__user__email__startswith="bench-")
    found["courses_booked"] = bench.count()
    found["sessions_booked"] = Session.objects.filter(course__in=bench).count()
    found["partial_courses"] = sum(
        1 for c in bench.prefetch_related("sessions") if len(c.sessions.all()) != 3
    )
    return found


def more_practitioners() -> int:
    """Room for a minute of bookings: the demo clinic's 3 practitioners fill up in less.

    Full weeks answer fast and would flatter the latency figures; with these,
    nearly every attempt books (or finds its time just taken).
    """
    from datetime import time

    from booking.models import Practitioner, WorkingHours
    from education.models import Treatment

    treatment = Treatment.objects.get(slug=TREATMENT)
    for n in range(EXTRA_PRACTITIONERS):
        practitioner = Practitioner.objects.create(display_name=f"Bench practitioner {n + 1}")
        practitioner.treatments.add(treatment)
        WorkingHours.objects.bulk_create(
            WorkingHours(practitioner=practitioner, weekday=day, start=time(9), end=time(17))
            for day in range(5)
        )
    return Practitioner.objects.filter(is_active=True, treatments=treatment).count()


def course_load(server) -> dict:
    """Locust: LOCUST_USERS new patients at once, each booking a 3-session course."""
    practitioners = more_practitioners()
    figures_path = OUT / "course_load_locust.json"
    figures_path.unlink(missing_ok=True)
    locust = Path(sys.executable).with_name("locust")
    with (OUT / "locust.log").open("w") as log:
        done = subprocess.run(
            [
                str(locust),
                "-f",
                "bench/locustfile.py",
                "--headless",
                "--users",
                str(LOCUST_USERS),
                "--spawn-rate",
                str(LOCUST_USERS),
                "--run-time",
                f"{LOCUST_SECONDS}s",
                "--stop-timeout",
                "30",  # each user finishes the booking it is making
                "--host",
                server.url,
                "--csv",
                str(OUT / "course_load"),
                "--only-summary",
                "--loglevel",
                "WARNING",
            ],
            cwd=Path(__file__).resolve().parents[1],
            env=dict(os.environ, BENCH_LOCUST_OUTCOMES=str(figures_path)),
            stdout=log,
            stderr=subprocess.STDOUT,
            check=False,  # locust exits 1 when any request failed: reported below
        )
    if not figures_path.exists():
        raise RuntimeError(
            f"locust wrote no figures (exit {done.returncode}), see var/bench/locust.log"
        )
    figures = json.loads(figures_path.read_text())
    book, total = figures["stats"][BOOK], figures["stats"]["Aggregated"]
    outcomes = figures["outcomes"]
    return {
        "users": LOCUST_USERS,
        "seconds": LOCUST_SECONDS,
        "locust_exit": done.returncode,
        "requests": total["requests"],
        "errors": total["failures"],
        "error_kinds": figures["errors"],
        "practitioners": practitioners,
        "bookings_tried": book["requests"],
        "bookings_p95_ms": figures["bookings_p95_ms"],
        "taken": outcomes.get("taken", 0),
        "full": outcomes.get("full", 0),
        "refused": outcomes.get("refused", 0),
        "book_median_ms": book["median_ms"],
        "book_p95_ms": book["p95_ms"],
        "book_p99_ms": book["p99_ms"],
        "p95_ms_by_outcome": {k: v["p95_ms"] for k, v in figures["by_outcome"].items()},
        "book_rps": book["rps"],
    }


def verdict(ok: bool) -> str:
    return "meets" if ok else "MISSES"


def main() -> int:
    if not needs_postgres("bench/web"):
        return 1
    from bench.server import WORKERS, served

    have_wrk = shutil.which("wrk") is not None
    if not have_wrk:
        print(f"bench/web: {WRK_MISSING}")
    result: dict = {
        "workers": WORKERS,
        "connections": CONNECTIONS,
        "seconds": SECONDS,
        "wrk_missing": not have_wrk,
    }
    with served() as server:
        client = Client()
        journey_to_picker(client)
        patient = signed_in_patient()
        result["queries"] = query_counts(client, patient)
        cookie = f"sessionid={client.cookies['sessionid'].value}"
        patient_cookie = f"sessionid={patient.cookies['sessionid'].value}"
        print(
            f"HTTP: gunicorn {WORKERS} sync workers at {server.url}, wrk {CONNECTIONS} connections"
        )
        result["pages"] = pages(server, cookie, patient_cookie) if have_wrk else None
        print(
            f"  locust: {LOCUST_USERS} patients booking courses for {LOCUST_SECONDS} s", flush=True
        )
        result["booking"] = course_load(server)
        result["booking"]["double_bookings"] = doubles = double_bookings()
        result["booking"]["booked"] = doubles["courses_booked"]  # the database's count

    queries, booking = result["queries"], result["booking"]
    print(
        f"{'what':<38} {'req/s':>7} {'ratio':>6} {'CPU ms':>7} {'ratio':>6} {'p99 ms':>7} "
        f"{'SQL':>4}  target (ratio: to the minimal view; CPU: the server's per request)"
    )
    labels = {
        "static": "static file through whitenoise",
        "treatment": "treatment page, cache cold",
        "treatment_cached": "treatment page, kept (not signed in)",
        "treatment_signed_in": "treatment page, kept, signed in",
        "articles": "article list page, kept (not signed in)",
        "articles_signed_in": "article list page, kept, signed in",
        "picker": "slot picker (days, one day's times)",
    }
    pages_found = result["pages"] or {}
    if pages_found:
        runs = pages_found["minimal_runs"]
        cpu = statistics.median(r["server_cpu_ms"] for r in runs)
        print(
            f"{'minimal Django view (median)':<38} {pages_found['base_rps']:>7.0f} {'':>6} {cpu:>7}"
        )
    for name, label in labels.items():
        row = pages_found.get(name, {})
        goal = f">= {TARGETS[name]}x"
        if name == "picker":
            goal += f", p99 < {PICKER_P99_MS} ms"
        if name == "treatment":
            goal += f", <= {TREATMENT_QUERIES} queries"
        print(
            f"{label:<38} {row.get('rps', '-'):>7} {row.get('ratio', '-'):>6} "
            f"{row.get('server_cpu_ms', '-'):>7} {row.get('cpu_ratio', '-'):>6} "
            f"{row.get('p99_ms', '-'):>7} {queries.get(name, '-'):>4}  {goal}"
        )
    doubles = booking["double_bookings"]
    print(
        f"course booking ({booking['users']} users, {booking['seconds']} s, "
        f"{booking['practitioners']} practitioners): "
        f"{booking['bookings_tried']} tries, {booking['booked']} booked, {booking['taken']} taken, "
        f"{booking['full']} full, {booking['errors']} errors, p95 {booking['bookings_p95_ms']} ms "
        f"(every answer {booking['book_p95_ms']:.0f} ms); double bookings: "
        f"{doubles['practitioner']} practitioner, {doubles['patient']} patient, "
        f"{doubles['partial_courses']} partial courses"
    )
    write("web", result)
    if not have_wrk:
        print(f"bench/web: {WRK_MISSING}")
    return 0 if have_wrk else 1


if __name__ == "__main__":
    sys.exit(main())
