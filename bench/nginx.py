"""The edge in `make bench`: the shipped nginx (deploy/nginx/) in front of the bench's gunicorn.

1. nginx with podari-cache.conf and podari-proxy.conf as shipped, rendered for the bench as
   tests/security/test_proxy_cache.py renders them (a free port on 127.0.0.1, upstream the
   bench's gunicorn, the cache folder and logs in bench/.work/nginx/, no TLS), but with
   nginx's own worker processes as production runs it, not the tests' single process.
2. The cached public pages with wrk through nginx, against a static file nginx serves
   itself from the collected static folder (the shipped config sends /static/ on to
   WhiteNoise, so the bench adds `location /bench-static/` for nginx's own rate); the
   access log records each answer's X-Cache-Status, so each row has its HIT share.
3. A giving spike through nginx: wrk reads a project's page while signed webhooks bring
   gifts through nginx; a probe gives to that project and polls its page through nginx
   until the new total shows (run.py's GiftStream and GiftProbe, pointed at nginx).
4. While wrk reads the home page through nginx, a donor signs in with an emailed link and
   a staff member through the admin's login form, both through nginx; their personal pages
   and public pages, fetched with their cookies, must never come from the proxy cache.

The functions take the driver module (bench/run.py, run as a script) as `bench`, for its
wrk, CPU accounting, webhooks and probes: importing it here would start a second copy
with another webhook secret.
"""

import http.client
import json
import os
import re
import secrets
import shutil
import statistics
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / "deploy" / "nginx"
WORK = ROOT / "bench" / ".work" / "nginx"
ACCESS_LOG = WORK / "access.log"
STATIC_PREFIX = "/bench-static/"

NGINX_MIN_RATIO = 70.0  # % of nginx's own static file rate
# s-maxage (1 s) + PAGE_CACHE_GIFTS_LAG_SECONDS (1 s), counted by nginx in whole seconds (docs/cdn.md).
NGINX_MAX_LAG_SECONDS = 3.0
REPEATS = 3  # each personal and public page fetched this often with each cookie

DONOR_EMAIL = "bench-donor@example.com"
STAFF_USERNAME = "bench-staff"

# Run with the bench's environment (the same SECRET_KEY as its gunicorn): a donor with a
# fresh sign-in link, as the "manage my giving" form makes one, and a staff account.
ACCOUNTS_SCRIPT = """
import json, os
from django.contrib.auth import get_user_model
from donations.models import Donor
from donors import links
from donors.models import SignInLink

donor, _ = Donor.objects.get_or_create(email=%(email)r, defaults={"name": "Bench Donor"})
link = SignInLink.objects.create(donor=donor)
user, _ = get_user_model().objects.get_or_create(username=%(username)r)
user.is_staff = user.is_superuser = True
user.set_password(os.environ["BENCH_STAFF_PASSWORD"])
user.save()
print(json.dumps({"token": links.sign_in_token(link.pk)}))
"""


def nginx_binary():
    """nginx, installed from Debian as .ci/run does when it is missing."""
    found = shutil.which("nginx") or ("/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None)
    if found:
        return found
    apt = ["apt-get", "-o", "DPkg::Lock::Timeout=600"]
    if subprocess.run([*apt, "install", "-y", "-qq", "nginx"], check=False).returncode:  # noqa: S603
        subprocess.run([*apt, "update", "-qq"], check=True)  # noqa: S603
        subprocess.run([*apt, "install", "-y", "-qq", "nginx"], check=True)  # noqa: S603
    return shutil.which("nginx") or "/usr/sbin/nginx"


def render_config(port, app_port, static_root):
    """A whole nginx.conf: the shipped podari-cache.conf (its cache folder moved into
    bench/.work/nginx, as cache_config in tests/security/test_proxy.py does) and
    podari-proxy.conf in a plain-HTTP server on 127.0.0.1, plus the bench's static location."""
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    temp = {name: WORK / name for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache")}
    for path in temp.values():
        path.mkdir()
    cache = WORK / "podari-cache.conf"
    cache.write_text(
        (DEPLOY / "podari-cache.conf").read_text().replace("/var/cache/nginx/podari", str(temp["cache"]))
    )
    config = WORK / "nginx.conf"
    config.write_text(f"""
daemon off;
worker_processes auto;
pid {WORK}/nginx.pid;
error_log {WORK}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};
    include {cache};
    # The bench's own log: what the cache did with each answer, for the HIT shares.
    log_format podari_bench '$upstream_cache_status $status "$request_uri"';
    upstream podari_app {{ server 127.0.0.1:{app_port}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        server_name localhost;
        access_log {ACCESS_LOG} podari_bench buffer=64k flush=1s;
        # Bench only: a file nginx serves itself, the baseline of the rows through nginx.
        location ^~ {STATIC_PREFIX} {{
            alias {static_root}/;
        }}
        include {DEPLOY / "podari-proxy.conf"};
    }}
}}
""")
    return config


class Proxy:
    """nginx in the foreground (daemon off), its master our child; stop() is idempotent."""

    def __init__(self, app_port, static_root):
        self.binary = nginx_binary()
        self.port = None
        self.app_port, self.static_root = app_port, static_root
        self.process = None

    def start(self, bench):
        self.port = bench.free_port()
        config = render_config(self.port, self.app_port, self.static_root)
        test = subprocess.run([self.binary, "-t", "-c", str(config)], capture_output=True, text=True)  # noqa: S603
        if test.returncode:
            raise SystemExit(f"nginx -t failed:\n{test.stderr}")
        self.process = subprocess.Popen(  # noqa: S603
            [self.binary, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        bench.OUR_PIDS.add(self.process.pid)  # its workers' CPU time is the benchmark's own
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"nginx exited with {self.process.returncode}; see {WORK / 'error.log'}")
            try:
                if bench.get(self.port, "/healthz", timeout=2)[0] == 200:
                    return self
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit("nginx did not pass /healthz on within 30 s")

    def stop(self, bench=None):
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()  # SIGTERM: the master stops its workers
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        if bench is not None:
            bench.OUR_PIDS.discard(self.process.pid)


# The access log: what the cache did


def log_offset():
    """Open a window on the access log: what was logged before (nginx flushes its buffer
    every second) is dropped, so the log holds only the measurement's own answers (several
    hundred thousand lines); nginx appends, so it writes on at the new end."""
    time.sleep(1.2)
    if ACCESS_LOG.exists():
        os.truncate(ACCESS_LOG, 0)
    return 0


def cache_statuses(start, path):
    """X-Cache-Status of each answer for `path` logged since the offset `start`."""
    time.sleep(1.2)  # the log is flushed every second
    with ACCESS_LOG.open("rb") as handle:
        handle.seek(start)
        text = handle.read().decode(errors="replace")
    counts = {}
    for line in text.splitlines():
        status, _, uri = line.split(" ", 2)
        if uri.strip('"') == path:
            counts[status] = counts.get(status, 0) + 1
    return counts


def hit_share(counts):
    total = sum(counts.values())
    return counts.get("HIT", 0) / total * 100 if total else 0.0


def cached_share(counts):
    """Answered from a stored copy: HIT, and UPDATING or STALE (a copy served while it is
    refreshed in the background, or while gunicorn fails)."""
    total = sum(counts.values())
    served = sum(counts.get(status, 0) for status in ("HIT", "UPDATING", "STALE", "REVALIDATED"))
    return served / total * 100 if total else 0.0


# A browser of sorts: cookies kept, forms posted


class Browser:
    def __init__(self, port):
        self.port, self.cookies = port, {}

    def request(self, method, path, form=None, cookies=True):
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        headers = {"Host": "127.0.0.1"}
        if cookies and self.cookies:
            headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if form is not None:
            body = urllib.parse.urlencode(form)
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            text = response.read().decode(errors="replace")
        finally:
            connection.close()
        if cookies:
            for value in response.msg.get_all("Set-Cookie") or []:
                name, _, rest = value.partition("=")
                cookie_value = rest.split(";", 1)[0]
                if cookie_value in ("", '""'):
                    self.cookies.pop(name.strip(), None)
                else:
                    self.cookies[name.strip()] = cookie_value
        return {
            "path": path,
            "status": response.status,
            "cache": response.getheader("X-Cache-Status"),
            "cache_control": response.getheader("Cache-Control") or "",
            "location": response.getheader("Location") or "",
            "body": text,
        }

    def csrf_form(self, path):
        page = self.request("GET", path)
        found = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page["body"])
        return found.group(1) if found else ""


def create_accounts(bench, password):
    code = ACCOUNTS_SCRIPT % {"email": DONOR_EMAIL, "username": STAFF_USERNAME}
    out = bench.run(
        [bench.PYTHON, "manage.py", "shell", "-c", code],
        env=bench.django_env(BENCH_STAFF_PASSWORD=password),
        capture=True,
    )
    return json.loads(out.strip().splitlines()[-1])


def sign_in_donor(port, token):
    """The emailed link's flow: open the link (its token is put aside in the session), then
    press the button on the page it leads to."""
    donor = Browser(port)
    donor.request("GET", f"/manage/link/{token}/")
    csrf = donor.csrf_form("/manage/link/")
    answer = donor.request("POST", "/manage/link/", form={"csrfmiddlewaretoken": csrf})
    return donor, answer["status"] == 302 and "/manage/giving/" in answer["location"]


def sign_in_staff(port, password):
    staff = Browser(port)
    csrf = staff.csrf_form("/admin/login/")
    form = {"csrfmiddlewaretoken": csrf, "username": STAFF_USERNAME, "password": password, "next": "/admin/"}
    answer = staff.request("POST", "/admin/login/?next=/admin/", form=form)
    return staff, answer["status"] == 302 and "sessionid" in staff.cookies


def check_personal_pages(bench, port, public_paths):
    """Sign a donor and a staff member in through nginx, fetch their pages and public pages
    with their cookies, then the same addresses without; while wrk reads the home page
    through nginx, so the cache is busy storing and serving it meanwhile."""
    password = secrets.token_urlsafe(24)
    token = create_accounts(bench, password)["token"]
    personal = {
        "donor": ["/manage/giving/", "/manage/"],
        "staff": ["/admin/", "/admin/donations/gift/", "/admin/dashboard/"],
    }
    results = {"answers": [], "signed_in": {}}
    load = threading.Thread(
        target=bench.wrk, args=(port, "/", max(4, bench.MEASURE_SECONDS)), kwargs={"warmup": False}
    )
    load.start()
    try:
        time.sleep(0.5)
        donor, results["signed_in"]["donor"] = sign_in_donor(port, token)
        staff, results["signed_in"]["staff"] = sign_in_staff(port, password)
        for who, browser in (("donor", donor), ("staff", staff)):
            for path in personal[who] + list(public_paths):
                for _ in range(REPEATS):
                    answer = browser.request("GET", path)
                    answer.update(who=who, personal=path in personal[who])
                    results["answers"].append(answer)
        # The same addresses for an anonymous reader: nothing of theirs may have been stored.
        anonymous = Browser(port)
        for path in personal["donor"] + personal["staff"] + list(public_paths):
            for _ in range(2):
                answer = anonymous.request("GET", path, cookies=False)
                answer.update(
                    who="anonymous", personal=False, after=path in personal["donor"] + personal["staff"]
                )
                results["answers"].append(answer)
    finally:
        load.join()
    for answer in results["answers"]:
        body = answer.pop("body")
        answer["leaks"] = answer["who"] == "anonymous" and (DONOR_EMAIL in body or STAFF_USERNAME in body)
    return results


def personal_bars(check):
    answers = check["answers"]
    with_cookies = [a for a in answers if a["who"] != "anonymous"]
    personal = [a for a in with_cookies if a["personal"]]
    anonymous = [a for a in answers if a["who"] == "anonymous"]
    return [
        (
            "donor and staff signed in through nginx",
            all(check["signed_in"].values()) and len(check["signed_in"]) == 2,
        ),
        (
            "no personal page served from the proxy cache",
            bool(with_cookies)
            and all(a["cache"] in (None, "BYPASS", "MISS") for a in with_cookies)
            and all(a["cache"] != "HIT" for a in anonymous if a.get("after"))
            and not any(a["leaks"] for a in anonymous),
        ),
        (
            "personal pages 200 with `private, no-store`",
            bool(personal)
            and all(
                a["status"] == 200 and "private" in a["cache_control"] and "no-store" in a["cache_control"]
                for a in personal
            ),
        ),
    ]


# Measurements


def measure_pages(bench, port, pages, server_pid, static_file):
    """nginx's static file (a path in the collected static folder), then each public page,
    then the static file again."""
    static_path = STATIC_PREFIX + static_file
    static_runs, rows = [], []

    def measure(name, path):
        bench.log(f"nginx: wrk {name}")
        warm_up = ["wrk", f"-t{bench.WRK_THREADS}", f"-c{bench.CONNECTIONS}", f"-d{bench.WARMUP_SECONDS}s"]
        # The warm-up, before the log window opens.
        subprocess.run([*warm_up, f"http://127.0.0.1:{port}{path}"], capture_output=True, check=False)  # noqa: S603
        start = log_offset()
        result = bench.wrk(
            port, path, bench.MEASURE_SECONDS, warmup=False, label=f"nginx {name}", server_pid=server_pid
        )
        result["cache"] = cache_statuses(start, path)
        result.pop("raw", None)
        return result

    static_runs.append(measure("static file", static_path))
    for name, path in pages:
        result = measure(name, path)
        if bench.disturbance(result):  # once more, the better kept, as run.py does
            bench.wait_for_quiet(limit=30)
            again = measure(f"{name} again", path)
            if bench.badness(again) < bench.badness(result):
                again["replaced"] = bench.disturbance(result)
                result = again
        rows.append({"name": name, "url": path, "result": result})
    static_runs.append(measure("static file, after", static_path))
    static = bench.combine_runs(static_runs)
    return {"static": static, "static_url": static_path, "pages": rows}


def measure_spike(bench, port, server_pid, seed, rng):
    """wrk on a project's page through nginx while gifts arrive through nginx at
    SPIKE_GIFTS_PER_SECOND; the probe gives to that project and times how long its page,
    read through nginx, takes to show the new total."""
    active = seed["active_project_ids"]
    probe_id = next(
        pk for pk in reversed(active) if pk not in (seed["top_project"]["id"], seed["general_fund_id"])
    )
    targets = [pk for pk in active if pk != probe_id]
    seconds = max(6, bench.MEASURE_SECONDS * 3)
    events = bench.prepare_webhook_events(
        targets, rng, distinct=bench.SPIKE_GIFTS_PER_SECOND * (seconds + 5) + 50, all_pending=True
    )
    probe_events = bench.prepare_webhook_events(
        [probe_id], rng, distinct=200, all_pending=True, amounts=[1001] * 200
    )
    conn = bench.psycopg2.connect(bench.PG_BENCH_DSN)
    with conn, conn.cursor() as cursor:
        cursor.execute("SELECT slug, currency FROM donations_project WHERE id = %s", [probe_id])
        slug, currency = cursor.fetchone()
    conn.close()
    path = f"/projects/{slug}/"
    stream = bench.GiftStream(port, events)
    probe = bench.GiftProbe(port, probe_events, path, probe_id, currency)
    bench.get(port, path)
    bench.log(f"nginx: spike, wrk on {path} for {seconds} s with {bench.SPIKE_GIFTS_PER_SECOND} gifts/s")
    with stream, probe:
        time.sleep(1)
        start = log_offset()
        result = bench.wrk(port, path, seconds, warmup=False, label="nginx spike", server_pid=server_pid)
    result["cache"] = cache_statuses(start, path)
    result.pop("raw", None)
    summary = stream.summary()
    db = bench.spike_gifts_in_db(summary.pop("sessions"))
    return {
        "url": path,
        "seconds": seconds,
        "result": result,
        "stream": summary,
        "probe": probe.summary(),
        "db": db,
    }


def measure_edge(bench, app_port, server_pid, seed, public_pages, static_file, rng):
    """Everything through nginx; the measurements for report_lines."""
    proxy = Proxy(app_port, bench.STATIC_ROOT).start(bench)
    bench.log(f"nginx on 127.0.0.1:{proxy.port} in front of gunicorn on {app_port}")
    try:
        data = measure_pages(bench, proxy.port, public_pages, server_pid, static_file)
        data["spike"] = measure_spike(bench, proxy.port, server_pid, seed, rng)
        bench.log("nginx: personal pages with a donor's and a staff member's cookies")
        data["personal"] = check_personal_pages(bench, proxy.port, [path for _, path in public_pages])
        data["nginx_version"] = subprocess.run(  # noqa: S603
            [proxy.binary, "-v"], capture_output=True, text=True, check=False
        ).stderr.strip()
    finally:
        proxy.stop(bench)
    return data


# Report


def report_lines(bench, edge):
    """(table lines, notes, passed) for the rows through nginx."""
    fmt, http_problem = bench.fmt, bench.http_problem
    static = edge["static"]
    static_rps = static["rps"]
    lines, all_bars = [], []

    def line(name, url, result, ratio, bars):
        all_bars.extend(ok for _, ok in bars)
        failed = [label for label, ok in bars if not ok]
        cells = [
            name,
            f"`{url if len(url) <= 40 else url[:37] + '…'}`",
            fmt(result.get("rps"), 0) if result else "—",
            fmt(result.get("p50"), 2) if result else "—",
            fmt(result.get("p99"), 2) if result else "—",
            fmt(ratio, 1) + "%" if ratio is not None else "—",
            "—",
            "—",
            fmt(result.get("other_cpu"), 0) + "%" if result else "—",
            ", ".join(label for label, _ in bars),
            "PASS" if not failed else "**FAIL** (" + ", ".join(failed) + ")",
        ]
        lines.append("| " + " | ".join(cells) + " |")

    line(
        "Static CSS (nginx itself)",
        edge["static_url"],
        static,
        100.0,
        [("HTTP 2xx", not http_problem(static))],
    )
    for row in edge["pages"]:
        result = row["result"]
        row["ratio"] = result["rps"] / static_rps * 100 if static_rps else 0.0
        share = hit_share(result["cache"])
        bars = [
            ("HTTP 2xx", not http_problem(result)),
            (f"≥{NGINX_MIN_RATIO:.0f}% of nginx's static", row["ratio"] >= NGINX_MIN_RATIO),
        ]
        stored = cached_share(result["cache"])
        name = f"{row['name']}, through nginx (HIT {share:.1f}%, stored copy {stored:.1f}%)"
        line(name, row["url"], result, row["ratio"], bars)

    spike = edge["spike"]
    delays = spike["probe"]["delays"]
    max_delay = max(delays) if delays else float("inf")
    result = spike["result"]
    stream = spike["stream"]
    bars = [
        ("HTTP 2xx", not http_problem(result)),
        (
            "webhooks through nginx all HTTP 200",
            set(stream["statuses"]) == {"200"} and set(spike["probe"]["statuses"]) == {"200"},
        ),
        ("1 succeeded gift per event", spike["db"]["gifts"] == spike["db"]["succeeded"] == stream["sent"]),
        (
            f"readers' lag ≤{NGINX_MAX_LAG_SECONDS:g} s (max {max_delay:.2f} s)",
            bool(delays) and max_delay <= NGINX_MAX_LAG_SECONDS,
        ),
    ]
    line(
        f"Project page through nginx, {bench.SPIKE_GIFTS_PER_SECOND} gifts/s through nginx, "
        f"{len(delays)} probes "
        f"(HIT {hit_share(result['cache']):.1f}%, stored copy {cached_share(result['cache']):.1f}%)",
        spike["url"],
        result,
        result["rps"] / static_rps * 100 if static_rps else 0.0,
        bars,
    )

    personal = edge["personal"]
    line(
        f"Personal pages through nginx: a donor and a staff member, {len(personal['answers'])} requests",
        "/manage/giving/, /admin/, …",
        None,
        None,
        personal_bars(personal),
    )

    by_who = {}
    for answer in personal["answers"]:
        key = f"{answer['who']}{' (personal)' if answer['personal'] else ''}"
        counts = by_who.setdefault(key, {})
        counts[answer["cache"] or "none"] = counts.get(answer["cache"] or "none", 0) + 1
    notes = [
        f"Through nginx ({edge.get('nginx_version', 'nginx')}): deploy/nginx/podari-cache.conf and "
        "podari-proxy.conf as shipped, in a plain-HTTP server on 127.0.0.1 in front of the same gunicorn, "
        "`worker_processes auto`, the cache in bench/.work/nginx/. Every % in these rows is of a static "
        f"file nginx serves itself (a bench-only `location {STATIC_PREFIX}` on the collected static "
        "folder: the shipped config passes /static/ on to WhiteNoise), "
        f"{static_rps:,.0f} req/s (before and after the pages: "
        + " and ".join(f"{v:,.0f}" for v in static["runs"])
        + "). X-Cache-Status of every answer during each measurement, from nginx's access log: "
        + "; ".join(
            f"{row['name']} "
            + ", ".join(
                f"{k} {v:,}" for k, v in sorted(row["result"]["cache"].items(), key=lambda kv: -kv[1])
            )
            for row in edge["pages"]
        )
        + ". Public pages say `s-maxage=1`, so each is fetched from gunicorn about once a second, "
        "in the background (`proxy_cache_background_update`): meanwhile readers get the stored copy "
        'as UPDATING. "Stored copy" in a row\'s name counts HIT, UPDATING and STALE.',
        f"Giving spike through nginx: wrk on `{spike['url']}` for {spike['seconds']} s while "
        f"{stream['sent']:,} gifts came as signed webhooks through "
        f"nginx's /webhooks/ ({stream['per_second']:.1f}/s; HTTP "
        + ", ".join(f"{k}: {v}" for k, v in sorted(stream["statuses"].items()))
        + f"); a probe gave to that project {len(delays)} times and polled its page through nginx every "
        f"{bench.PROBE_POLL_SECONDS * 1000:.0f} ms: lag "
        + (f"median {statistics.median(delays):.2f} s, max {max_delay:.2f} s" if delays else "none measured")
        + f". The promise (docs/cdn.md) is s-maxage 1 s + PAGE_CACHE_GIFTS_LAG_SECONDS 1 s, "
        "and nginx's whole-second clock: "
        f"{NGINX_MAX_LAG_SECONDS:g} s. Cache statuses: "
        + ", ".join(f"{k} {v:,}" for k, v in sorted(result["cache"].items(), key=lambda kv: -kv[1]))
        + ".",
        "Personal pages through nginx: while wrk read the home page through nginx, a donor signed in "
        "with an emailed sign-in link (opened, then its button pressed) and a staff member through "
        "/admin/login/, both through nginx; each fetched their own pages (donor: /manage/giving/, "
        "/manage/; staff: /admin/, /admin/donations/gift/, /admin/dashboard/) and the public pages "
        f"{REPEATS} times with their cookies, then an anonymous reader fetched all of them twice. "
        "Signed in: "
        + ", ".join(f"{k} {'yes' if v else 'NO'}" for k, v in personal["signed_in"].items())
        + ". X-Cache-Status: "
        + "; ".join(f"{k}: " + ", ".join(f"{s} {n}" for s, n in v.items()) for k, v in by_who.items())
        + " (none: a location that does not cache, /admin/). Bar: no answer with a cookie was a HIT, no "
        "personal address was a HIT for the anonymous reader afterwards, and no anonymous page showed "
        "the donor's address or the staff user's name; every personal page was 200 with "
        "`private, no-store`.",
    ]
    return lines, notes, all(all_bars)
