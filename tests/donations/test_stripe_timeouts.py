"""A call to Stripe ends before the proxy or gunicorn gives up on the donor's request.

The donate form waits on Stripe to open Checkout. If Stripe is slow, every try may time
out; the whole call must still end in time for the site to answer with its own "try
again" page, not nginx's 504 or a worker killed by gunicorn. These tests read the three
configured limits (podari/settings.py, gunicorn.conf.py, deploy/nginx/) and check the
sum, then make the Stripe stub answer too late and look at what the donor gets.
"""

import http.client
import os
import re
import runpy
import subprocess
import sys
import time
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import pytest
import stripe
from django.conf import settings
from django.urls import reverse

import podari.settings as production
from donations import stripe_gateway
from donations.models import Gift, RecurringGift
from tests.conftest import StripeStub
from tests.security.test_proxy import DEPLOY, NGINX, cache_config, free_port, main_config, wait_for

pytestmark = pytest.mark.django_db

DONATE_URL = reverse("donations:donate")
# Room for the rest of the request around the call to Stripe (the database, the rate
# limits), for resolving Stripe's name and for trying a second of its addresses.
MARGIN_SECONDS = 5
NGINX_TIME = re.compile(r"^\s*proxy_read_timeout\s+(\d+)(ms|s|m)?\s*;", re.MULTILINE)


def nginx_read_timeouts():
    """Every proxy_read_timeout in the deployed nginx files, in seconds."""
    units = {"ms": 0.001, "s": 1, "m": 60, None: 1}
    found = []
    for path in sorted(DEPLOY.glob("*.conf")):
        found += [int(value) * units[unit] for value, unit in NGINX_TIME.findall(path.read_text())]
    return found


def gunicorn_timeout():
    return runpy.run_path(str(settings.BASE_DIR / "gunicorn.conf.py"))["timeout"]


def production_longest_wait():
    """As podari/settings.py reads the environment (the test settings change the retries)."""
    return stripe_gateway.longest_wait_seconds(
        connect=production.STRIPE_CONNECT_TIMEOUT_SECONDS,
        read=production.STRIPE_TIMEOUT_SECONDS,
        retries=production.STRIPE_MAX_NETWORK_RETRIES,
    )


def test_the_longest_stripe_call_ends_well_inside_the_proxy_and_gunicorn():
    longest = production_longest_wait()
    proxy = nginx_read_timeouts()
    worker = gunicorn_timeout()

    # The proxy's limit is set (nginx's own default is 60 s), and the site's file includes it.
    assert proxy, "deploy/nginx sets no proxy_read_timeout"
    assert "include /etc/nginx/snippets/podari-proxy.conf;" in (DEPLOY / "podari.conf").read_text()
    assert longest + MARGIN_SECONDS <= min(proxy), (longest, proxy)
    assert longest + MARGIN_SECONDS <= worker, (longest, worker)
    # The defaults: (2 s to connect + 5 s for the answer) × 3 tries + 0.5 s + 1 s between them.
    if not any(
        name in os.environ
        for name in ("STRIPE_CONNECT_TIMEOUT_SECONDS", "STRIPE_TIMEOUT_SECONDS", "STRIPE_MAX_NETWORK_RETRIES")
    ):
        assert (longest, min(proxy), worker) == (22.5, 30, 60)


def test_the_longest_wait_counts_stripe_pythons_own_sleeps_between_tries(monkeypatch):
    client = stripe.RequestsClient()
    # Jitter only ever shortens a sleep (to between half and all of it): take all of it.
    monkeypatch.setattr(client, "_add_jitter_time", lambda seconds: seconds)
    sleeps = [client._sleep_time_seconds(n) for n in range(1, 6)]

    assert sleeps == [0.5, 1, 2, 4, 5]
    assert stripe_gateway.longest_wait_seconds(connect=0, read=0, retries=5) == sum(sleeps)
    assert stripe_gateway.longest_wait_seconds(connect=2, read=5, retries=0) == 7


def test_the_client_waits_as_configured(settings):
    settings.STRIPE_CONNECT_TIMEOUT_SECONDS = 1.5
    settings.STRIPE_TIMEOUT_SECONDS = 4.0
    settings.STRIPE_MAX_NETWORK_RETRIES = 3

    client = stripe_gateway._client()

    assert client._requestor._client._timeout == (1.5, 4.0)
    assert client._requestor._options.max_network_retries == 3


# A slow Stripe, as the donor sees it


MONTHLY_GIFT = {
    "project": "car-t",
    "currency": "usd",
    "frequency": "monthly",
    "amount_preset": "2500",
    "amount_custom": "",
    "cover_fee": "on",
    "donor_name": "Jane Donor",
    "donor_email": "jane@example.com",
}


def test_a_slow_stripe_gives_the_donor_the_page_to_try_again_and_loses_nothing(
    client, project, stripe_stub, checkout_session, settings
):
    settings.STRIPE_CONNECT_TIMEOUT_SECONDS = 0.5
    settings.STRIPE_TIMEOUT_SECONDS = 0.3
    settings.STRIPE_MAX_NETWORK_RETRIES = 1
    late = checkout_session()
    stripe_stub.respond(late, delay=5)  # longer than the timeout, both tries
    stripe_stub.respond(late, delay=5)

    started = time.monotonic()
    response = client.post(DONATE_URL, MONTHLY_GIFT)
    waited = time.monotonic() - started

    assert response.status_code == 503
    page = response.content.decode()
    assert "Please try again" in page and "Nothing was charged" in page
    # Two tries of one request: the same parameters and idempotency key, so had Stripe made
    # the session meanwhile, the second try would have been given that same session.
    gift = Gift.objects.get()
    first, second = stripe_stub.requests
    assert (first["method"], first["path"]) == ("POST", "/v1/checkout/sessions")
    assert first["params"] == second["params"]
    assert (
        first["headers"]["Idempotency-Key"]
        == second["headers"]["Idempotency-Key"]
        == f"checkout-{gift.public_id}"
    )
    params = first["params"]
    assert (params["mode"], params["customer_email"]) == ("subscription", "jane@example.com")
    assert (
        params["line_items[0][price_data][unit_amount]"],
        params["line_items[1][price_data][unit_amount]"],
    ) == (
        "2500",
        "87",
    )
    # Each try waited its timeout, with stripe-python's sleep between; no more than the bound.
    assert 2 * 0.3 + 0.25 <= waited < stripe_gateway.longest_wait_seconds() + 1, waited
    # The gift is kept, marked as never started, tied to no session; its details wait in the page.
    assert gift.status == Gift.Status.NOT_STARTED
    assert (gift.amount_minor, gift.fee_covered_minor, gift.donor_email, gift.frequency) == (
        2_500,
        87,
        "jane@example.com",
        Gift.Frequency.MONTHLY,
    )
    assert gift.stripe_checkout_session_id is None
    assert RecurringGift.objects.get().status == RecurringGift.Status.INCOMPLETE
    for name, value in MONTHLY_GIFT.items():
        assert f'<input type="hidden" name="{name}" value="{value}">' in page

    # Stripe answers again: "Try again" sends the same details on to Checkout.
    session = checkout_session()
    stripe_stub.respond(session)
    resubmitted = dict(re.findall(r'<input type="hidden" name="(\w+)" value="([^"]*)">', page))
    retried = client.post(DONATE_URL, resubmitted)

    assert retried.status_code == 303 and retried["Location"] == session["url"]
    again = Gift.objects.get(stripe_checkout_session_id=session["id"])
    assert (again.status, again.amount_minor, again.fee_covered_minor) == (Gift.Status.PENDING, 2_500, 87)
    assert Gift.objects.get(pk=gift.pk).status == Gift.Status.NOT_STARTED


# The same, through nginx and gunicorn as deployed


SETTINGS = """
from podari.settings import *  # noqa

# Production settings; only static files come straight from the app folders (no collectstatic).
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
WHITENOISE_USE_FINDERS = True
"""


@pytest.fixture
def deployed_site(tmp_path, checkout_session):
    """The site as the README deploys it: gunicorn -c gunicorn.conf.py with production
    settings (static files aside) and their Stripe timeouts, nginx with
    deploy/nginx/podari-proxy.conf in front, and a Stripe stub that answers after a minute."""
    stub = StripeStub()
    stub.thread.start()
    for _ in range(production.STRIPE_MAX_NETWORK_RETRIES + 1):
        stub.respond(checkout_session(), delay=60)
    app_port, proxy_port = free_port(), free_port()
    (tmp_path / "timeout_settings.py").write_text(SETTINGS)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DJANGO_SETTINGS_MODULE": "timeout_settings",
        "PYTHONPATH": f"{tmp_path}{os.pathsep}{settings.BASE_DIR}",
        "SECRET_KEY": "timeout-test-" + "x" * 50,
        "ALLOWED_HOSTS": "localhost",
        "SITE_URL": "https://podari.life",
        "SECURE_SSL_REDIRECT": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SESSION_COOKIE_SECURE": "0",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "MEDIA_ROOT": str(tmp_path / "media"),
        "STRIPE_SECRET_KEY": "sk_test_timeout",
        "STRIPE_WEBHOOK_SECRET": "whsec_timeout",
        "STRIPE_API_BASE": stub.url,
        "GUNICORN_BIND": f"127.0.0.1:{app_port}",
        "WEB_CONCURRENCY": "1",
        # Whatever the Stripe timeouts are in this environment, the site gets them too.
        **{
            name: value
            for name, value in os.environ.items()
            if name.startswith("STRIPE_") and "TIMEOUT" in name
        },
        **{name: value for name, value in os.environ.items() if name == "STRIPE_MAX_NETWORK_RETRIES"},
    }
    manage = [sys.executable, "manage.py"]
    run = {"cwd": settings.BASE_DIR, "env": env, "capture_output": True, "timeout": 300, "check": True}
    subprocess.run([*manage, "migrate", "--noinput"], **run)  # noqa: S603
    make_project = (
        "from donations.models import Project; "
        "Project.objects.create(title='CAR-T therapy for children', slug='car-t', summary='CAR-T.', "
        "description='CAR-T.', goal_minor=500000)"
    )
    subprocess.run([*manage, "shell", "-c", make_project], **run)  # noqa: S603
    processes = []
    try:
        app = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "podari.wsgi"],
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
        yield proxy_port, stub
    finally:
        for process in processes:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
        stub.stop()


@pytest.mark.skipif(NGINX is None, reason="nginx is not installed")
def test_through_nginx_and_gunicorn_a_slow_stripe_gets_the_page_to_try_again(deployed_site):
    port, stub = deployed_site
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.request("GET", "/donate/?project=car-t", headers={"Host": "localhost"})
    form = connection.getresponse()
    page = form.read().decode()
    assert form.status == 200
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    cookie = SimpleCookie(form.headers["Set-Cookie"])["csrftoken"].value

    started = time.monotonic()
    connection.request(
        "POST",
        "/donate/",
        body=urlencode({**MONTHLY_GIFT, "csrfmiddlewaretoken": token}),
        headers={
            "Host": "localhost",
            "Content-Type": "application/x-www-form-urlencoded",
            "Cookie": f"csrftoken={cookie}",
            "Origin": "http://localhost",
            "Referer": "http://localhost/donate/",
        },
    )
    answer = connection.getresponse()
    waited = time.monotonic() - started
    body = answer.read().decode()

    # The site's own page, from gunicorn, before nginx's proxy_read_timeout.
    assert answer.status == 503, (answer.status, waited, body[:300])
    assert "Please try again" in body and "Nothing was charged" in body
    assert len(stub.requests) == production.STRIPE_MAX_NETWORK_RETRIES + 1
    assert waited <= production_longest_wait() + 1 < min(nginx_read_timeouts()), waited
    print(f"\nA Stripe that never answers: the try-again page after {waited:.1f} s")  # noqa: T201
