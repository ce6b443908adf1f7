"""Where an uncached page's time goes: cProfile over repeated renders, by kind of work.

Each page is requested as the load test requests it uncached (`sessionid=bench-uncached`,
so the page cache steps aside; the donate page without a cookie) through Django's full
handler with every middleware, RENDERS times after a warm-up, under cProfile with a CPU
clock (time.process_time), so time spent waiting on PostgreSQL or Redis does not count
but the driver's own work for each call does. Functions are grouped by where they live.

Run against the benchmark database after `make bench` (or bench/run.py's seeding):

    DJANGO_SETTINGS_MODULE=bench.settings DATABASE_URL=postgres://postgres@127.0.0.1:5432/podari_bench \\
        REDIS_URL=redis://127.0.0.1:6379/5 SECRET_KEY=... ALLOWED_HOSTS=127.0.0.1 \\
        BENCH_STATIC_ROOT=bench/.work/staticfiles .venv/bin/python -m bench.profile_pages [--write] /path ...

It prints a Markdown summary; --write puts it in bench/profile.md.
"""

import cProfile
import pstats
import statistics
import sys
import time
from pathlib import Path

import django

django.setup()

from django.test import Client  # noqa: E402

RENDERS = 100
OUT = Path(__file__).resolve().parent / "profile.md"

# (label, substrings of the function's file or name); the first match wins.
KINDS = [
    ("database driver (psycopg2: send, wait, parse rows)", ("psycopg2", "extensions.cursor")),
    ("ORM: building SQL, making model instances", ("django/db/",)),
    ("templates: Django template engine", ("django/template/", "django/forms/")),
    ("URL reversing (url tag, get_absolute_url)", ("django/urls/",)),
    (
        "dates and numbers (date filter, localize)",
        ("dateformat", "formats.py", "numberformat", "timezone.py"),
    ),
    ("money formatting (babel)", ("babel",)),
    ("cache client (Redis)", ("redis", "django/core/cache")),
    (
        "middleware, request and response",
        ("django/middleware", "django/contrib", "csp/", "axes/", "whitenoise"),
    ),
    ("handler, test client and HTTP objects", ("django/core/handlers", "django/test", "django/http")),
    ("translation and thread locals", ("translation", "asgiref")),
    ("site code (podari, stories, donations)", ("/podari/", "/stories/", "/donations/")),
    ("escaping and safe strings", ("html.py", "safestring", "functional.py", "encoding.py")),
]


STDLIB = "Python built-ins and the standard library"


def kind_of(filename, name):
    where = f"{filename} {name}"
    for label, needles in KINDS:
        if any(needle in where for needle in needles):
            return label
    return STDLIB


def profile(client, url):
    for _ in range(5):
        response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    timings = []
    for _ in range(RENDERS):
        started = time.process_time()
        client.get(url)
        timings.append((time.process_time() - started) * 1000)
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    for _ in range(RENDERS):
        client.get(url)
    profiler.disable()
    stats = pstats.Stats(profiler)
    kinds, functions = {}, []
    for (filename, line, name), (_, _, tottime, _, callers) in stats.stats.items():
        functions.append((tottime, f"{Path(filename).name}:{line}({name})"))
        label = kind_of(filename, name)
        if label != STDLIB or not callers:
            kinds[label] = kinds.get(label, 0.0) + tottime
            continue
        # Built-ins and the standard library count for whoever called them (getattr in
        # the template engine is template work), split by each caller's share of the calls.
        spent = sum(c[2] for c in callers.values()) or 1.0
        for (c_file, _, c_name), c_stats in callers.items():
            c_label = kind_of(c_file, c_name)
            kinds[c_label] = kinds.get(c_label, 0.0) + tottime * c_stats[2] / spent
    total = sum(kinds.values())
    return {
        "cpu_ms": statistics.median(timings),
        "kinds": sorted(((v / total * 100, k) for k, v in kinds.items()), reverse=True),
        "top": [(t / total * 100, f) for t, f in sorted(functions, reverse=True)[:8]],
    }


def main(args):
    write = "--write" in args
    urls = [a for a in args if a.startswith("/")]
    with_cookie = Client(HTTP_HOST="127.0.0.1")
    with_cookie.cookies["sessionid"] = "bench-uncached"
    plain = Client(HTTP_HOST="127.0.0.1")
    lines = [
        "# Where an uncached page's time goes",
        "",
        "Produced by `bench/profile_pages.py` (see its docstring): CPU time of one process rendering each",
        f"page {RENDERS} times through the full middleware stack, as the load test requests it uncached;",
        "shares of the profiled CPU time by kind of work, built-ins counted for their callers",
        "(cProfile's own overhead inflates every share about alike).",
    ]
    for url in urls:
        result = profile(plain if url.startswith("/donate/") else with_cookie, url)
        lines += ["", f"## `{url}`: {result['cpu_ms']:.1f} ms CPU per request (median, unprofiled)", ""]
        lines += ["| Kind of work | Share |", "|---|---|"]
        lines += [f"| {label} | {share:.0f}% |" for share, label in result["kinds"] if share >= 1]
        lines += [
            "",
            "Top functions by own time: " + "; ".join(f"`{f}` {s:.0f}%" for s, f in result["top"]) + ".",
        ]
    text = "\n".join(lines) + "\n"
    print(text)
    if write:
        OUT.write_text(text)


if __name__ == "__main__":
    main(sys.argv[1:])
