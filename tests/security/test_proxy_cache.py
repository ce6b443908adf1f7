"""nginx's microcache (deploy/nginx/podari-cache.conf), in front of gunicorn as deployed.

Public pages are served from it; readers with a session, CSRF or messages cookie and
personal pages never are; a page it holds still answers while gunicorn is down.
Skipped where nginx is not installed.
"""

import http.client
import os
import subprocess
import sys
import time

import pytest
from django.conf import settings

from podari.edge_cache import MESSAGES_COOKIE_NAME
from tests.security.test_proxy import DEPLOY, NGINX, cache_config, free_port, main_config, wait_for

pytestmark = pytest.mark.skipif(NGINX is None, reason="nginx is not installed")

# Long enough that a page stored in one second is still fresh in the next (nginx counts
# whole seconds); the production default is 1.
SHARED_SECONDS = 2

SETTINGS = """
from podari.settings import *  # noqa

# Production settings; only static files come straight from the app folders (no collectstatic).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
"""


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


@pytest.fixture(scope="module")
def cached_site(tmp_path_factory):
    """gunicorn with production settings on a migrated SQLite file, nginx with the shipped
    cache and proxy rules in front. Yields nginx's port and the gunicorn process."""
    tmp_path = tmp_path_factory.mktemp("proxy_cache")
    app_port, proxy_port = free_port(), free_port()
    (tmp_path / "cache_test_settings.py").write_text(SETTINGS)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "cache_test_settings",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{settings.BASE_DIR}",
        "SECRET_KEY": "proxy-cache-test-" + "x" * 50,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": "https://podari.life",
        "SECURE_SSL_REDIRECT": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "PAGE_CACHE_SHARED_SECONDS": str(SHARED_SECONDS),
    }
    subprocess.run(  # noqa: S603
        [sys.executable, "manage.py", "migrate", "--noinput"],
        cwd=settings.BASE_DIR, env=env, capture_output=True, timeout=300, check=True,
    )  # fmt: skip
    processes = []
    try:
        app = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "podari.wsgi", "--bind", f"127.0.0.1:{app_port}",
             "--workers", "1", "--log-level", "warning"],
            cwd=settings.BASE_DIR, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        processes.append(app)
        servers = f"""
    include {cache_config(tmp_path)};
    upstream podari_app {{ server 127.0.0.1:{app_port}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{proxy_port};
        server_name localhost;
        include {DEPLOY / "podari-proxy.conf"};
    }}
"""
        config = tmp_path / "nginx.conf"
        config.write_text(main_config(tmp_path, servers))
        proxy = subprocess.Popen(  # noqa: S603
            [NGINX, "-c", str(config)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        processes.append(proxy)
        wait_for(app_port, app)
        wait_for(proxy_port, proxy)
        yield proxy_port, app
    finally:
        for process in processes:
            stop(process)


def get(port, path, cookie=None, method="GET"):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    headers = {"Host": "localhost", **({"Cookie": cookie} if cookie else {})}
    connection.request(method, path, headers=headers)
    response = connection.getresponse()
    response.body = response.read()
    connection.close()
    return response


def test_the_cache_is_bypassed_on_the_sites_own_cookie_names():
    text = (DEPLOY / "podari-cache.conf").read_text()
    for name in (settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, MESSAGES_COOKIE_NAME):
        assert f"$cookie_{name}" in text, name
    proxy = (DEPLOY / "podari-proxy.conf").read_text()
    assert "proxy_cache_bypass $podari_skip_cache;" in proxy and "proxy_no_cache $podari_skip_cache;" in proxy
    assert "include /etc/nginx/snippets/podari-cache.conf;" in (DEPLOY / "podari.conf").read_text()


def test_the_second_anonymous_request_is_served_from_the_cache(cached_site):
    port, _ = cached_site
    first, second = get(port, "/"), get(port, "/")
    assert first.status == second.status == 200
    assert first.getheader("X-Cache-Status") == "MISS"
    assert second.getheader("X-Cache-Status") == "HIT"
    assert second.body == first.body
    assert f"s-maxage={SHARED_SECONDS}" in second.getheader("Cache-Control")


@pytest.mark.parametrize(
    "cookie", [settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME, MESSAGES_COOKIE_NAME]
)
def test_a_reader_with_a_session_csrf_or_messages_cookie_bypasses_the_cache(cached_site, cookie):
    port, _ = cached_site
    get(port, "/projects/")
    assert get(port, "/projects/").getheader("X-Cache-Status") == "HIT"

    theirs = get(port, "/projects/", cookie=f"{cookie}=abc")

    assert theirs.status == 200
    assert theirs.getheader("X-Cache-Status") == "BYPASS"
    # Fetched from gunicorn for them, and not stored: the next anonymous reader still
    # gets the copy stored before.
    assert get(port, "/projects/").getheader("X-Cache-Status") == "HIT"
    if cookie != settings.CSRF_COOKIE_NAME:
        # A page for someone with a session or a message is theirs alone. (A CSRF cookie
        # alone changes nothing on a page that shows no form.)
        assert "private" in theirs.getheader("Cache-Control")


@pytest.mark.parametrize("path", ["/manage/", "/admin/login/"])
def test_a_personal_page_or_form_is_never_served_from_the_cache(cached_site, path):
    port, _ = cached_site
    answers = [get(port, path) for _ in range(3)]
    for answer in answers:
        assert answer.status == 200, path
        assert answer.getheader("X-Cache-Status") in (None, "MISS", "BYPASS"), path
        assert "no-store" in answer.getheader("Cache-Control"), path


def test_a_post_is_never_served_from_the_cache(cached_site):
    port, _ = cached_site
    get(port, "/")
    assert get(port, "/", method="POST").getheader("X-Cache-Status") is None


# Last: it stops gunicorn for the rest of the module.
def test_a_cached_page_still_answers_while_the_site_is_down(cached_site):
    port, app = cached_site
    stored = get(port, "/stories/")
    assert stored.status == 200

    stop(app)
    time.sleep(SHARED_SECONDS + 1)  # past s-maxage: only stale-if-error may serve it now
    answer = get(port, "/stories/")

    assert answer.status == 200
    assert answer.getheader("X-Cache-Status") == "STALE"
    assert answer.body == stored.body
    assert get(port, "/projects/no-such-project/").status == 502  # nothing stored: nothing to show
