"""Shared fixtures: factories, a Stripe stub at the HTTP layer, and signed webhook deliveries."""

import io
import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import pytest
import stripe
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

FIXTURES = Path(__file__).parent / "fixtures"


# Media


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Uploads and renditions go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


def image_upload(name="picture.png", size=(1200, 800), color=(200, 90, 90), image_format="PNG"):
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, image_format)
    content_type = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}[image_format]
    return SimpleUploadedFile(name, buffer.getvalue(), content_type=content_type)


@pytest.fixture(autouse=True)
def empty_cache():
    """Rate-limit counters and cached pages never leak from one test into the next."""
    from django.core.cache import caches

    for alias in settings.CACHES:
        caches[alias].clear()
    yield
    for alias in settings.CACHES:
        caches[alias].clear()


# Factories


@pytest.fixture
def make_project(db):
    from donations.models import Project

    counter = iter(range(1, 10_000))

    def make(**fields):
        n = next(counter)
        fields.setdefault("title", f"Project {n}")
        fields.setdefault("slug", f"project-{n}")
        fields.setdefault("summary", f"What project {n} pays for.")
        fields.setdefault("description", f"Project {n} **matters**.")
        fields.setdefault("image", image_upload(f"project-{n}.png"))
        fields.setdefault("image_alt", f"A picture for project {n}")
        fields.setdefault("goal_minor", 500_000)
        return Project.objects.create(**fields)

    return make


@pytest.fixture
def general_fund(make_project):
    return make_project(title="General fund", slug="general-fund", is_general_fund=True, goal_minor=None)


@pytest.fixture
def project(make_project):
    return make_project(title="CAR-T therapy for children", slug="car-t")


@pytest.fixture
def make_story(db):
    from stories.models import Story

    counter = iter(range(1, 10_000))

    def make(projects=(), **fields):
        n = next(counter)
        fields.setdefault("title", f"Story {n}")
        fields.setdefault("slug", f"story-{n}")
        fields.setdefault("summary", f"Summary of story {n}.")
        fields.setdefault("body", f"The body of story {n}.")
        fields.setdefault("image", image_upload(f"story-{n}.png"))
        fields.setdefault("image_alt", f"A picture for story {n}")
        fields.setdefault("status", Story.Status.PUBLISHED)
        fields.setdefault("publish_at", timezone.now() - timezone.timedelta(days=n))
        story = Story.objects.create(**fields)
        story.projects.set(projects)
        return story

    return make


@pytest.fixture
def make_gift(db):
    from donations.models import Gift

    def make(project, **fields):
        fields.setdefault("amount_minor", 5_000)
        fields.setdefault("currency", project.currency)
        fields.setdefault("status", Gift.Status.SUCCEEDED)
        return Gift.objects.create(project=project, **fields)

    return make


# Staff in the roles of ledger/migrations/0003_staff_groups.py


@pytest.fixture
def staff_groups(db):
    from importlib import import_module

    from django.apps import apps as django_apps
    from django.contrib.auth.models import Group

    if Group.objects.filter(name__in=["Editors", "Finance"]).count() != 2:
        # A transactional test elsewhere flushed the tables the data migration had filled.
        import_module("ledger.migrations.0003_staff_groups").create_groups(django_apps, None)
        import_module("donors.migrations.0004_finance_sees_donors_and_project_money").grant(django_apps, None)
        import_module("donors.migrations.0005_privacy_requests").grant(django_apps, None)


def staff_in(group_name, username, django_user_model):
    from django.contrib.auth.models import Group

    user = django_user_model.objects.create_user(username, f"{username}@podari.test", "pw", is_staff=True)
    user.groups.add(Group.objects.get(name=group_name))
    return user


@pytest.fixture
def finance_user(staff_groups, django_user_model):
    return staff_in("Finance", "fiona", django_user_model)


@pytest.fixture
def editor_user(staff_groups, django_user_model):
    return staff_in("Editors", "eddie", django_user_model)


@pytest.fixture
def finance_client(client, finance_user):
    client.force_login(finance_user)
    return client


@pytest.fixture
def editor_client(client, editor_user):
    client.force_login(editor_user)
    return client


# Stripe API stub: the real `stripe` library talks HTTP to this local server.


class StripeStub:
    """Records every request the stripe library sends and answers with queued responses."""

    def __init__(self):
        self.requests = []
        self.responses = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def respond(self, body, status=200):
        self.responses.append((status, body))

    def _handler_class(self):
        stub = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                self._answer()

            def do_GET(self):
                self._answer()

            def do_DELETE(self):
                self._answer()

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length).decode()
                stub.requests.append(
                    {
                        "method": self.command,
                        "path": self.path,
                        "headers": dict(self.headers),
                        "params": dict(parse_qsl(raw or urlsplit(self.path).query, keep_blank_values=True)),
                    }
                )
                status, body = stub.responses.pop(0) if stub.responses else (500, {"error": {}})
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("Request-Id", "req_stub")
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def stripe_stub(settings):
    stub = StripeStub()
    stub.thread.start()
    settings.STRIPE_API_BASE = stub.url
    yield stub
    stub.server.shutdown()
    stub.server.server_close()


# Webhooks


def load_stripe_fixture(name):
    return json.loads((FIXTURES / "stripe" / f"{name}.json").read_text())


def sign(payload: str, secret=None, timestamp=None):
    return stripe.WebhookSignature.generate_signature_header(
        payload, secret or settings.STRIPE_WEBHOOK_SECRET, timestamp=timestamp or int(time.time())
    )


@pytest.fixture
def post_event(client):
    """POST an event to the webhook endpoint, signed with Stripe's real algorithm."""

    def post(event, *, secret=None, timestamp=None, signature=None):
        payload = event if isinstance(event, str) else json.dumps(event)
        header = signature if signature is not None else sign(payload, secret, timestamp)
        return client.post(
            reverse("donations:stripe_webhook"),
            data=payload,
            content_type="application/json",
            headers={"Stripe-Signature": header},
        )

    return post
