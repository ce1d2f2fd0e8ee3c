"""Benchmark: search over 2,000 articles and FAQs on PostgreSQL.

Run with `make bench`. Builds a throw-away test database, fills it with 1,000
articles and 1,000 FAQs (plus the demo treatments), then times each query of a
fixed set many times. Prints a table and writes JSON to var/bench/search.json.
Target (issue 3): median under 30 ms.
"""

import random
import statistics
import sys
import time

from django.db import connection  # noqa: E402 - after bench.common sets Django up
from django.test.utils import CaptureQueriesContext  # noqa: E402

from bench.common import QUICK, needs_postgres, scratch_database, write

QUERIES = [
    "microneedling",
    "collagen induction therapy",
    "skin needling",
    "dermaroller",
    "microneedlign",
    "acne scars",
    "aftercare sun",
    "does it hurt",
    "zzzqqq",
]
WORDS = [
    "skin",
    "collagen",
    "scar",
    "acne",
    "redness",
    "swelling",
    "sunscreen",
    "session",
    "course",
    "needle",
    "pen",
    "roller",
    "heal",
    "texture",
    "tone",
    "pores",
    "wrinkles",
    "lines",
    "stretch",
    "marks",
    "numbing",
    "cream",
    "clinic",
    "practitioner",
    "aftercare",
    "moisturiser",
    "exercise",
    "sauna",
    "infection",
    "recovery",
    "results",
    "weeks",
]
ROWS = 100 if QUICK else 1000  # of each: articles and FAQs
REPEATS = 3 if QUICK else 15
TARGET_MS = 30.0


def fill(rng: random.Random) -> None:
    from education import demo
    from education.models import FAQ, Article, Topic

    demo.seed()
    topic = Topic.objects.first()

    def text(n):
        return " ".join(rng.choice(WORDS) for _ in range(n)).capitalize() + "."

    Article.objects.bulk_create(
        [
            Article(
                title=f"{text(5)[:-1]} {i}",
                slug=f"bench-{i}",
                summary=text(15),
                body="\n\n".join(f"## {text(3)}\n\n{text(60)}" for _ in range(5)),
                status=Article.Status.PUBLISHED,
                published_at="2026-01-01T09:00:00Z",
                topic=topic,
            )
            for i in range(ROWS)
        ],
        batch_size=500,
    )
    FAQ.objects.bulk_create(
        [
            FAQ(
                question=f"{text(6)[:-1]}?",
                slug=f"bench-faq-{i}",
                answer=text(50),
                topic=topic,
                order=i,
            )
            for i in range(ROWS)
        ],
        batch_size=500,
    )
    from education.search import refresh_search_vectors

    refresh_search_vectors(Article)  # bulk_create skips save(): store the vectors here
    refresh_search_vectors(FAQ)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")


def main() -> int:
    if not needs_postgres("bench/search"):
        return 1
    from education.search import search

    with scratch_database():
        fill(random.Random(7))
        rows = []
        for query in QUERIES:
            search(query)  # warm
            timings = []
            with CaptureQueriesContext(connection) as captured:
                for _ in range(REPEATS):
                    started = time.perf_counter()
                    results = search(query)
                    timings.append((time.perf_counter() - started) * 1000)
            rows.append(
                {
                    "query": query,
                    "results": len(results),
                    "median_ms": round(statistics.median(timings), 1),
                    "p90_ms": round(sorted(timings)[int(REPEATS * 0.9) - 1], 1),
                    "sql_per_search": len(captured) // REPEATS,
                }
            )
    overall = statistics.median(r["median_ms"] for r in rows)
    print(f"Search over {ROWS} articles + {ROWS} FAQs on PostgreSQL ({REPEATS} runs each)")
    print(f"{'query':<30} {'results':>7} {'median ms':>10} {'p90 ms':>8} {'SQL':>4}")
    for r in rows:
        print(
            f"{r['query']:<30} {r['results']:>7} {r['median_ms']:>10} {r['p90_ms']:>8} "
            f"{r['sql_per_search']:>4}"
        )
    verdict = "meets" if overall < TARGET_MS else "MISSES"
    print(f"median of medians: {overall:.1f} ms ({verdict} the {TARGET_MS:.0f} ms target)")
    write("search", {"rows": rows, "median_ms": overall, "target_ms": TARGET_MS})
    return 0


if __name__ == "__main__":
    sys.exit(main())
