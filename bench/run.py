"""`make bench`: every benchmark in order, then one table of figures against targets.

Each benchmark runs in its own process (its own scratch database) and prints
its own details; this prints the final table (what, measured, target,
meets/MISSES) and writes var/bench/summary.json. QUICK=1 shortens each to a
few seconds on less data (CI runs it so that none of them rots).

Benchmarks, not timed tests: a missed target is reported, not failed. The
exit status is non-zero only when a benchmark could not run (a crash, or
PostgreSQL, Redis or wrk missing).
"""

import json
import os
import platform
import subprocess
import sys
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "var" / "bench"
QUICK = os.environ.get("QUICK", "").strip() not in ("", "0")
MODULES = [
    "free_slots",
    "search",
    "booking",
    "schedule",
    "web",
    "reminders",
    "waitlist",
    "deposits",
]


def load(name: str) -> dict | None:
    path = OUT / f"{name}.json"
    return json.loads(path.read_text()) if path.exists() else None


def row(what: str, measured: str, target: str, ok: bool | None) -> dict:
    verdict = "-" if ok is None else ("meets" if ok else "MISSES")
    return {"what": what, "measured": measured, "target": target, "verdict": verdict}


def not_measured(what: str, target: str, why: str) -> dict:
    return {"what": what, "measured": f"not measured ({why})", "target": target, "verdict": "-"}


def web_rows(data: dict | None, why: str) -> list[dict]:
    from bench.web import BOOKING_P95_MS, PICKER_P99_MS, TARGETS, TREATMENT_QUERIES

    names = {
        "static": "static file through whitenoise",
        "treatment": "treatment page, cache cold (after a content save)",
        "treatment_cached": "treatment page, cached: kept whole (visitors not signed in)",
        "treatment_signed_in": "treatment page, cached: kept, own menu (signed-in patient)",
        "articles": "article list page: kept whole (visitors not signed in)",
        "articles_signed_in": "article list page: kept, own menu (signed-in patient)",
        "picker": "the slot picker: a strip of days and one day's times",
    }
    goals = {
        "static": f">= {TARGETS['static']:.2f}x the minimal view",
        "treatment": f">= {TARGETS['treatment']:.2f}x, <= {TREATMENT_QUERIES} queries",
        "treatment_cached": f">= {TARGETS['treatment_cached']:.2f}x",
        "treatment_signed_in": f">= {TARGETS['treatment_signed_in']:.2f}x",
        "articles": f">= {TARGETS['articles']:.2f}x",
        "articles_signed_in": f">= {TARGETS['articles_signed_in']:.2f}x",
        "picker": f">= {TARGETS['picker']:.2f}x, p99 < {PICKER_P99_MS} ms at 16 connections",
    }
    rows = []
    if data and data.get("wrk_missing"):
        why = "wrk is not installed: apt-get install wrk"
    pages = (data or {}).get("pages")
    queries = (data or {}).get("queries", {})
    if pages:
        runs = [r["rps"] for r in pages["minimal_runs"]]
        cpu = sorted(r["server_cpu_ms"] for r in pages["minimal_runs"])[len(runs) // 2]
        rows.append(
            row(
                "minimal Django view (measured before each page)",
                f"{pages['base_rps']:.0f} req/s median ({min(runs):.0f} to {max(runs):.0f}); "
                f"server CPU {cpu:.2f} ms a request",
                "the base of each ratio",
                None,
            )
        )
    for name, label in names.items():
        if not pages:
            rows.append(not_measured(label, goals[name], why))
            continue
        page = pages[name]
        measured = (
            f"{page['ratio']:.2f}x ({page['rps']:.0f} req/s; server CPU {page['server_cpu_ms']:.1f}"
            f" ms a request: {page['cpu_ratio']:.2f}x)"
        )
        ok = page["ratio"] >= TARGETS[name] and not page["non_2xx"]
        if name in queries:
            measured += f", {queries[name]} queries"
        if name == "treatment":
            ok = ok and queries.get(name, 99) <= TREATMENT_QUERIES
        if name == "picker":
            measured += f", p99 {page['p99_ms']:.0f} ms"
            ok = ok and page["p99_ms"] < PICKER_P99_MS
        if page["non_2xx"]:
            measured += f", {page['non_2xx']} non-2xx answers"
        rows.append(row(label, measured, goals[name], ok))
    label = "booking a 3-session course (locust)"
    booking = (data or {}).get("booking")
    if not booking:
        rows.append(not_measured(label, "no errors or double bookings, p95 < 500 ms", why))
        return rows
    doubles = booking["double_bookings"]
    double_count = doubles["practitioner"] + doubles["patient"]
    p95 = booking["bookings_p95_ms"]
    rows.append(
        row(
            f"booking a 3-session course (locust, {booking['users']} users, "
            f"{booking['seconds']} s)",
            f"{booking['booked']} booked, {booking['taken']} taken (409), {booking['full']} full; "
            f"{booking['errors']} errors, {double_count} double bookings, "
            f"{doubles['partial_courses']} partial courses; p95 {p95} ms "
            f"(every answer: {booking['book_p95_ms']:.0f} ms)",
            f"0 errors, 0 double bookings, p95 < {BOOKING_P95_MS} ms",
            booking["errors"] == 0
            and double_count == 0
            and doubles["partial_courses"] == 0
            and p95 is not None
            and p95 < BOOKING_P95_MS,
        )
    )
    return rows


def summary_rows(failed: dict[str, str]) -> list[dict]:
    rows = []

    def why(name: str) -> str:
        return failed.get(name, "no result")

    if data := load("free_slots"):
        median = data["benchmarks"][0]["stats"]["median"] * 1000
        rows.append(
            row(
                "free-slot computation alone, 12 weeks (pytest-benchmark)",
                f"median {median:.3f} ms",
                "median <= 1 ms",
                median <= 1.0,
            )
        )
    else:
        rows.append(
            not_measured("free-slot computation alone", "median <= 1 ms", why("free_slots"))
        )

    if data := load("booking"):
        results = data["results"]
        free = results["free slots, 12 weeks, 1 practitioner"]
        plan = results["plan a 6-session course"]
        book = results["book the 6-session course"]
        sessions = data["sessions"]
        rows += [
            row(
                f"free slots, 12 weeks, {sessions} sessions in the database",
                f"median {free['median_ms']:.1f} ms, {free['queries']} queries",
                "median < 50 ms, <= 5 queries",
                free["median_ms"] < 50 and free["queries"] <= 5,
            ),
            row(
                "planning a 6-session course",
                f"median {plan['median_ms']:.1f} ms",
                "median < 100 ms",
                plan["median_ms"] < 100,
            ),
            row(
                "booking the 6-session course",
                f"{book['queries']} queries",
                "<= 16 queries",
                book["queries"] <= 16,
            ),
        ]
        history = data.get("history")
        if history:
            long = results[f"free slots, as above, {history:,} past sessions"]
            alone = long["without_history_median_ms"]
            ratio = long["median_ms"] / alone
            rows.append(
                row(
                    f"free slots, as above, with {history:,} past sessions of that practitioner",
                    f"median {long['median_ms']:.1f} ms, {ratio:.2f}x the same read without "
                    f"them ({alone:.1f} ms, timed in turn), {long['queries']} queries",
                    "within 20% of the read without them",
                    ratio <= 1.2,
                )
            )
    else:
        rows.append(
            not_measured(
                "free slots, plan and book with sessions in the database", "-", why("booking")
            )
        )
    if data := load("search"):
        rows.append(
            row(
                "search over articles and answers (median of medians)",
                f"{data['median_ms']:.1f} ms",
                f"< {data['target_ms']:.0f} ms",
                data["median_ms"] < data["target_ms"],
            )
        )
    else:
        rows.append(not_measured("search", "median < 30 ms", why("search")))
    if data := load("schedule"):
        week = data["results"]["week view"]
        rows.append(
            row(
                f"admin week schedule, {data['practitioners']} practitioners, "
                f"{data['sessions']} sessions",
                f"median {week['median_ms']:.1f} ms, {week['queries']} queries",
                "median < 200 ms, <= 10 queries",
                week["median_ms"] < 200 and week["queries"] <= 10,
            )
        )
    else:
        rows.append(
            not_measured("admin week schedule", "median < 200 ms, <= 10 queries", why("schedule"))
        )
    rows += web_rows(load("web"), why("web"))
    if data := load("reminders"):
        ok = data["seconds"] <= 120 and not data["duplicates"] and not data["not_sent_when_stopped"]
        rows.append(
            row(
                f"reminders: {data['rows']:,} due rows through a real worker",
                f"{data['seconds']} s, {data['sends_per_second']} sends/s, "
                f"{data['duplicates']} duplicates, {data['not_sent_when_stopped']} lost, "
                f"{data['dispatcher_queries_per_batch']} queries per batch",
                f"{data['rows']:,} within 120 s, 0 duplicates",
                ok,
            )
        )
    else:
        rows.append(
            not_measured("reminders", "10,000 within 120 s, 0 duplicates", why("reminders"))
        )
    rows += waitlist_rows(load("waitlist"), why("waitlist"))
    rows += deposits_rows(load("deposits"), why("deposits"))
    return rows


def deposits_rows(data: dict | None, why: str) -> list[dict]:
    from bench.deposits import (
        QUERIES_MORE,
        SERVER_MS_MORE,
        WEBHOOK_MEDIAN_MS,
        confirm_ok,
        webhook_ok,
    )

    confirm_target = f"<= {QUERIES_MORE} queries and <= {SERVER_MS_MORE} ms more"
    webhook_target = f"0 double entries, median < {WEBHOOK_MEDIAN_MS} ms"
    if not data:
        return [
            not_measured("deposits: the confirm step, on against off", confirm_target, why),
            not_measured("deposits: webhook deliveries", webhook_target, why),
        ]
    confirm, hooks = data["confirm"], data["webhooks"]
    off, on = confirm["off"], confirm["on"]
    return [
        row(
            "deposits: confirm step on vs off (Stripe's call left out)",
            f"{on['queries_max']} queries against {off['queries_max']} "
            f"({confirm['queries_more']:+d}); {on['server_ms']:.0f} ms against "
            f"{off['server_ms']:.0f} ms ({confirm['server_ms_more']:+.1f} ms; "
            f"Stripe's call {on['provider_ms']:.0f} ms)",
            confirm_target,
            confirm_ok(confirm),
        ),
        row(
            f"deposits: {hooks['deliveries']:,} webhook deliveries ({hooks['duplicates']} "
            f"repeated, {hooks['out_of_order']} out of order)",
            f"{hooks['double_ledger_entries']} double entries, {hooks['double_events']} double "
            f"events, {hooks['deposits_ended_wrongly']} deposits ended wrongly; median "
            f"{hooks['median_ms']:.1f} ms, p95 {hooks['p95_ms']:.0f} ms",
            webhook_target,
            webhook_ok(hooks),
        ),
    ]


def waitlist_rows(data: dict | None, why: str) -> list[dict]:
    from bench.waitlist import (
        BURST_S,
        DUPLICATES,
        MEDIAN_MS,
        QUERIES_SLACK,
        burst_ok,
        one_cancellation_ok,
    )

    match_target = f"median < {MEDIAN_MS} ms, queries flat (within {QUERIES_SLACK})"
    burst_target = f"each within {BURST_S} s, 0 duplicate offers, 0 overlaps"
    if not data:
        return [
            not_measured("waitlist: matching one cancellation", match_target, why),
            not_measured("waitlist: 1,000 cancellations in a burst", burst_target, why),
        ]
    sizes, burst = data["one_cancellation"], data["burst"]
    small, large = sizes[0], sizes[-1]
    return [
        row(
            f"waitlist: matching a cancellation, {large['entries']:,} entries",
            f"median {large['median_ms']:.0f} ms of {large['cancellations']}, p95 "
            f"{large['p95_ms']:.0f} ms (CPU "
            f"{large['cpu_median_ms']:.0f} ms); {large['queries_median']:g} queries "
            f"({small['queries_median']:g} with {small['entries']:,} entries)",
            match_target,
            one_cancellation_ok(sizes),
        ),
        row(
            f"waitlist: {burst['cancellations']:,} cancellations in a burst, "
            f"{burst['entries']:,} entries",
            f"each time's first offer sent at most "
            f"{burst['first_offer_after_its_cancellation_max_s']:.0f} s after its cancellation "
            f"(median {burst['first_offer_after_its_cancellation_median_s']:.1f} s; "
            f"{burst['offer_emails_sent']:,} sent, all {burst['seconds']:.0f} s after the first "
            f"cancellation, {burst['worker_processes']} workers); "
            f"{sum(burst[k] for k in DUPLICATES)} duplicates, "
            f"{burst['holds_overlapping_a_session']} overlaps",
            burst_target,
            burst_ok(burst),
        ),
    ]


def machine() -> dict:
    facts = {"cores": os.cpu_count(), "python": platform.python_version()}
    try:
        with open("/proc/meminfo") as meminfo:
            kib = int(meminfo.readline().split()[1])
        facts["memory_gib"] = round(kib / 1024 / 1024)
    except (OSError, ValueError, IndexError):
        pass
    try:
        from bench.common import connection  # sets Django up (test settings)
        from django.conf import settings

        with connection.creation._nodb_cursor() as cursor:  # the database may not exist yet
            cursor.execute("SHOW server_version")
            facts["postgresql"] = cursor.fetchone()[0].split()[0]
        if settings.REDIS_URL:
            import redis

            server = redis.Redis.from_url(settings.REDIS_URL).info("server")
            facts["redis"] = server["redis_version"]
    except Exception as exc:  # noqa: BLE001 - facts for the report, never a failure
        facts["note"] = f"service versions unknown ({type(exc).__name__})"
    return facts


def print_table(rows: list[dict]) -> None:
    widths = [max(len(r[k]) for r in rows) for k in ("what", "measured", "target")]
    widths = [min(w, limit) for w, limit in zip(widths, (58, 90, 48), strict=True)]
    header = ("what", "measured", "target", "")
    print("  ".join(h.ljust(w) for h, w in zip(header, [*widths, 6], strict=True)).rstrip())
    for r in rows:
        cells = [r["what"], r["measured"], r["target"], r["verdict"]]
        print("  ".join(c.ljust(w) for c, w in zip(cells, [*widths, 6], strict=True)).rstrip())


def main() -> int:
    OUT.mkdir(parents=True, exist_ok=True)
    for name in MODULES:  # no stale figures from an earlier run
        (OUT / f"{name}.json").unlink(missing_ok=True)
    failed: dict[str, str] = {}
    seconds: dict[str, float] = {}
    load_before = os.getloadavg()[0]  # other work on the machine skews every figure
    started = time.perf_counter()
    for name in MODULES:
        print(f"\n== bench.{name}{' (QUICK)' if QUICK else ''}", flush=True)
        began = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", f"bench.{name}"], cwd=ROOT, check=False)
        seconds[name] = round(time.perf_counter() - began, 1)
        if done.returncode:
            failed[name] = f"bench.{name} exited {done.returncode}"
    total = round(time.perf_counter() - started, 1)
    rows = summary_rows(failed)
    facts = machine()
    facts["load_average_1min"] = {"before": load_before, "after": os.getloadavg()[0]}
    print(
        f"\nBenchmarks{' (QUICK: a few seconds each, smaller data)' if QUICK else ''}, "
        f"{date.today().isoformat()}, {facts.get('cores')} cores, "
        f"{facts.get('memory_gib', '?')} GiB, PostgreSQL {facts.get('postgresql', '?')}, "
        f"Redis {facts.get('redis', '?')}, Python {facts['python']}; {total:.0f} s in all; "
        f"load average {load_before:.1f} before, {facts['load_average_1min']['after']:.1f} after"
    )
    print_table(rows)
    for why in failed.values():
        print(f"FAILED: {why} (its rows say 'not measured'; see its output above)")
    (OUT / "summary.json").write_text(
        json.dumps(
            {
                "date": date.today().isoformat(),
                "quick": QUICK,
                "machine": facts,
                "seconds": {**seconds, "total": total},
                "failed": failed,
                "rows": rows,
            },
            indent=2,
        )
    )
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
