"""SQL queries per uncached page, counted with Django's test client on the bench database.

Each page is requested exactly as the load test requests it: `cookie:/path` with the
`sessionid=bench-uncached` cookie (the uncached public pages), `plain:/path` without
(the donate page); once to warm up, once counted, then timed. Every SELECT is EXPLAINed.

Run by bench/run.py as `python -m bench.queries cookie:/ plain:/donate/ ...` with
DJANGO_SETTINGS_MODULE=bench.settings and PAGE_CACHE_ENABLED=0; prints one JSON object
on its last line.
"""

import json
import statistics
import sys
import time

import django

django.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

TIMED_RENDERS = 15


def measure(client, url):
    client.get(url)  # warm-up: first-request imports and caches don't count
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    # Read now: captured_queries is a view of connection.queries, which the next request clears.
    queries = [{"sql": q["sql"], "ms": float(q["time"]) * 1000} for q in captured.captured_queries]
    timings = []
    for _ in range(TIMED_RENDERS):
        started = time.perf_counter()
        client.get(url)
        timings.append((time.perf_counter() - started) * 1000)
    return {
        "status": response.status_code,
        "queries": len(queries),
        "sql": queries,
        "render_ms_median": round(statistics.median(timings), 2),
    }


def explain(sql):
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (ANALYZE, BUFFERS) " + sql)
        return "\n".join(row[0] for row in cursor.fetchall())


def main(args):
    with_cookie = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    with_cookie.cookies["sessionid"] = "bench-uncached"
    plain = Client(HTTP_HOST="127.0.0.1", raise_request_exception=False)
    results = {}
    for arg in args:
        kind, url = arg.split(":", 1)
        results[arg] = measure(with_cookie if kind == "cookie" else plain, url)
    # Only SELECTs are safe to EXPLAIN ANALYZE (it runs the statement).
    plans = {
        url: [
            {"sql": q["sql"], "ms": q["ms"], "plan": explain(q["sql"])}
            for q in result["sql"]
            if q["sql"].lstrip().upper().startswith("SELECT")
        ]
        for url, result in results.items()
    }
    print(json.dumps({"pages": results, "plans": plans}))


if __name__ == "__main__":
    main(sys.argv[1:])
