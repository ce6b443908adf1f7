"""Several gunicorn workers, default settings (no REDIS_URL): every worker serves the latest page
and counts the same rate limits.

The test starts a real gunicorn with two workers from gunicorn.conf.py, against a SQLite file,
with the production settings; only static files are served from the app folders, so no
collectstatic is needed. Content is changed by a separate process, as an admin save on
another worker or server would change it. Requests use a new connection each, and the
access log records which worker answered, so the test can show that both did.
"""

import http.client
import os
import re
import runpy
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlencode

import pytest
from django.conf import settings

from donations.money import format_money

ROOT = Path(__file__).resolve().parents[2]
GUNICORN = Path(sys.executable).parent / "gunicorn"

pytestmark = pytest.mark.skipif(not GUNICORN.exists(), reason="gunicorn is not installed")

SETTINGS = """
from podari.settings import *  # noqa

# Production settings; only static files come straight from the app folders.
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
"""


WORKERS = 2


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Site:
    def __init__(self, folder):
        self.folder = folder
        self.database = folder / "db.sqlite3"
        self.access_log = folder / "access.log"
        self.port = free_port()
        (folder / "shared_workers_settings.py").write_text(SETTINGS)
        env = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "REDIS_URL", "DATABASE_URL")}
        env.update(
            DJANGO_SETTINGS_MODULE="shared_workers_settings",
            PYTHONPATH=f"{folder}{os.pathsep}{ROOT}",
            SECRET_KEY="shared-workers-test-key-not-used-anywhere-else",
            ALLOWED_HOSTS="127.0.0.1",
            SITE_URL=f"http://127.0.0.1:{self.port}",
            DATABASE_URL=f"sqlite:///{self.database}",
            MEDIA_ROOT=str(folder / "media"),
            SECURE_SSL_REDIRECT="0",
            SESSION_COOKIE_SECURE="0",
            CSRF_COOKIE_SECURE="0",
            STRIPE_SECRET_KEY="sk_test_shared_workers",
            STRIPE_WEBHOOK_SECRET="whsec_shared_workers",
            LOG_LEVEL="WARNING",
            GUNICORN_BIND=f"127.0.0.1:{self.port}",
            WEB_CONCURRENCY=str(WORKERS),
        )
        self.env = env
        self.process = None

    def manage(self, *args):
        subprocess.run(
            [sys.executable, "manage.py", *args], cwd=ROOT, env=self.env, check=True, capture_output=True
        )

    def shell(self, code):
        self.manage("shell", "-c", code)

    def start(self):
        self.process = subprocess.Popen(
            [str(GUNICORN), "-c", "gunicorn.conf.py", "podari.wsgi"]
            + ["--access-logfile", str(self.access_log), "--access-logformat", "%(p)s %(r)s %(s)s"]
            + ["--error-logfile", str(self.folder / "error.log")],
            cwd=ROOT,
            env=self.env,
            start_new_session=True,
        )
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.folder / "error.log").read_text()
            try:
                if self.request("GET", "/healthz")[0] == 200:
                    return
            except OSError:
                time.sleep(0.2)
        raise AssertionError("gunicorn did not answer within 60 s")

    def stop(self):
        if self.process and self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGTERM)  # the master stops its workers
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)  # the group we started
                self.process.wait()

    def request(self, method, path, body=None, headers=None):
        """One request on a connection of its own, so any worker may take it."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            connection.request(method, path, body=body, headers={"Connection": "close", **(headers or {})})
            response = connection.getresponse()
            return response.status, response.read().decode(), response.getheader("Set-Cookie") or ""
        finally:
            connection.close()

    def log_lines(self):
        return self.access_log.read_text().splitlines() if self.access_log.exists() else []

    def workers_that_answered(self, path, since=0):
        """The workers that answered `path`, in the access log from line `since` on."""
        pids = set()
        for line in self.log_lines()[since:]:
            pid, request = line.split(" ", 1)
            if f" {path} " in request:
                pids.add(pid)
        return pids

    def from_every_worker(self, send, path, *, at_least=12, at_most=200):
        """Call send() two at a time, at least `at_least` times and until every worker has
        answered `path` since the call began (or `at_most` calls); returns the answers.
        The kernel may hand a run of new connections to one idle worker, so a fixed
        number of requests proves nothing about the other one."""
        since, answers = len(self.log_lines()), []
        while len(answers) < at_most and (
            len(answers) < at_least or len(self.workers_that_answered(path, since)) < WORKERS
        ):
            with ThreadPoolExecutor(max_workers=2) as pool:
                pair = [pool.submit(send) for _ in range(2)]
            answers += [future.result() for future in pair]
        # The worker writes its access-log line just after its answer.
        deadline = time.monotonic() + 5
        while len(self.log_lines()) < since + len(answers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(self.workers_that_answered(path, since)) == WORKERS, "one worker took every request"
        return answers

    def get_from_every_worker(self, path):
        return self.from_every_worker(lambda: self.request("GET", path), path)

    def query(self, sql, params=()):
        with sqlite3.connect(self.database) as db:
            return db.execute(sql, params).fetchone()


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    site = Site(tmp_path_factory.mktemp("shared-workers"))
    site.manage("migrate", "--noinput")
    site.manage("seed_demo")
    site.start()
    yield site
    site.stop()


def test_a_story_moved_back_to_draft_disappears_from_every_worker(site):
    slug, title = site.query("SELECT slug, title FROM stories_story WHERE status = 'published' LIMIT 1")
    path = f"/stories/{slug}/"
    answers = site.get_from_every_worker(path)  # each worker renders and caches it
    assert {(status, cookies) for status, _, cookies in answers} == {(200, "")}
    html_title = title.replace("'", "&#x27;")
    assert all(html_title in body for _, body, _ in answers)

    site.shell(
        f"from stories.models import Story; s = Story.objects.get(slug={slug!r}); "
        "s.status = Story.Status.DRAFT; s.save()"
    )

    after = [status for status, _, _ in site.get_from_every_worker(path)]
    assert set(after) == {404}
    home = [page for _, page, _ in site.get_from_every_worker("/")]
    assert all(html_title not in page for page in home)


def test_a_project_edit_shows_on_every_worker(site):
    (slug,) = site.query("SELECT slug FROM donations_project LIMIT 1")
    path = f"/projects/{slug}/"
    assert {status for status, _, _ in site.get_from_every_worker(path)} == {200}

    site.shell(
        f"from donations.models import Project; p = Project.objects.get(slug={slug!r}); "
        "p.title = 'Renamed on another server'; p.save()"
    )

    pages = [page for _, page, _ in site.get_from_every_worker(path)]
    assert all("Renamed on another server" in page for page in pages)


def test_a_gift_shows_on_every_worker(site):
    slug, currency = site.query(
        "SELECT slug, currency FROM donations_project WHERE goal_minor IS NOT NULL LIMIT 1"
    )
    path = f"/projects/{slug}/"
    assert {status for status, _, _ in site.get_from_every_worker(path)} == {200}

    site.shell(
        f"from donations.models import Gift, Project; p = Project.objects.get(slug={slug!r}); "
        "Gift.objects.create(project=p, amount_minor=1_234_500, currency=p.currency, "
        "status=Gift.Status.SUCCEEDED)"
    )

    (raised,) = site.query("SELECT raised_minor FROM donations_project WHERE slug = ?", [slug])
    expected = f"<strong>{format_money(raised, currency)}</strong> raised"
    # A stored page may show totals from before a gift for PAGE_CACHE_GIFTS_LAG_SECONDS.
    time.sleep(settings.PAGE_CACHE_GIFTS_LAG_SECONDS)
    # The first request after that rebuilds it (others at that moment still get the
    # stored copy); from then on every worker serves the rebuilt page.
    pages = [site.request("GET", path)[1]]
    pages += [page for _, page, _ in site.get_from_every_worker(path)]
    assert all(expected in page for page in pages)


def test_the_rate_limit_is_counted_across_workers(site):
    status, page, set_cookie = site.request("GET", "/donate/")
    assert status == 200
    csrf_cookie = re.search(r"csrftoken=([^;]+)", set_cookie).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    # An invalid amount: the form answers with its errors and nothing reaches Stripe.
    body = urlencode({"csrfmiddlewaretoken": token, "amount_preset": "", "donor_email": "tester@example.com"})
    headers = {"Content-Type": "application/x-www-form-urlencoded", "Cookie": f"csrftoken={csrf_cookie}"}

    answers = site.from_every_worker(
        lambda: site.request("POST", "/donate/", body, headers), "/donate/", at_least=10
    )
    statuses = [status for status, _, _ in answers]

    # Five per email in ten minutes by default, whichever worker counts.
    assert sorted(statuses) == [200] * 5 + [429] * (len(statuses) - 5)


def test_without_the_proxy_setting_gunicorn_ignores_x_forwarded_proto(site):
    """gunicorn on its own would believe the header from 127.0.0.1; gunicorn.conf.py does not.

    Over HTTPS, Django's CSRF check also demands a Referer from the same site, so a form
    posted without one is refused (403) only if the request was taken for HTTPS.
    """
    status, page, set_cookie = site.request("GET", "/donate/")
    csrf_cookie = re.search(r"csrftoken=([^;]+)", set_cookie).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    body = urlencode({"csrfmiddlewaretoken": token, "amount_preset": "", "donor_email": "proto@example.com"})
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": f"csrftoken={csrf_cookie}",
        "X-Forwarded-Proto": "https",
    }

    status, page, _ = site.request("POST", "/donate/", body, headers)

    assert status == 200  # the form with its errors: the post was taken as plain HTTP


@pytest.mark.parametrize(
    ("environment", "trusted"),
    [
        ({}, []),
        ({"BEHIND_HTTPS_PROXY": "1"}, ["127.0.0.1", "::1"]),
        ({"BEHIND_HTTPS_PROXY": "1", "FORWARDED_ALLOW_IPS": "10.0.0.5"}, ["10.0.0.5"]),
        ({"FORWARDED_ALLOW_IPS": "10.0.0.5"}, []),
    ],
)
def test_gunicorn_trusts_forwarded_headers_only_with_the_proxy_setting(monkeypatch, environment, trusted):
    from gunicorn.config import Config

    for name in ("BEHIND_HTTPS_PROXY", "FORWARDED_ALLOW_IPS", "GUNICORN_BIND"):
        monkeypatch.delenv(name, raising=False)
    for name, value in environment.items():
        monkeypatch.setenv(name, value)
    config = Config()
    for name, value in runpy.run_path(str(ROOT / "gunicorn.conf.py")).items():
        if name in config.settings:
            config.set(name, value)

    assert config.forwarded_allow_ips == trusted
    assert config.bind == ["127.0.0.1:8000"]
