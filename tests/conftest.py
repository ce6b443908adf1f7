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


def record_gift(project, *, amount_refunded_minor=0, amount_disputed_minor=0, **fields):
    """A gift, its money recorded through the ledger as Stripe's events would record it:
    paid (unless a status says otherwise), then refunded or disputed by the amounts given."""
    from donations.models import Gift
    from ledger import services

    fields.setdefault("amount_minor", 5_000)
    fields.setdefault("currency", project.currency)
    status = fields.pop("status", Gift.Status.SUCCEEDED)
    if status == Gift.Status.REFUNDED and not amount_refunded_minor:
        amount_refunded_minor = fields["amount_minor"]
    origin = services.Origin.staff(None, "test")
    if fields.get("source", Gift.Source.STRIPE) != Gift.Source.STRIPE:
        gift = Gift(project=project, **fields)
        services.record_offline_gift(gift, by=None)
        return gift
    if status not in Gift.PAID_STATUSES:
        return Gift.objects.create(project=project, status=status, **fields)
    paid_at = fields.pop("paid_at", None) or timezone.now()
    gift = Gift(project=project, **fields)
    services.record_payment(
        gift,
        amount_minor=gift.amount_minor,
        currency=gift.currency,
        fee_covered_minor=gift.fee_covered_minor,
        paid_at=paid_at,
        origin=origin,
    )
    as_of = int(paid_at.timestamp()) + 60
    if amount_refunded_minor:
        charged = gift.amount_minor + gift.fee_covered_minor
        share = amount_refunded_minor * charged // gift.amount_minor
        services.record_refund(
            gift, refunded_total=share, currency=gift.currency, as_of=as_of, origin=origin, charge_id=""
        )
    if amount_disputed_minor:
        services.record_dispute_opened(
            gift, dispute_id=f"dp_test_{gift.pk}", amount=amount_disputed_minor, currency=gift.currency,
            occurred_at=paid_at, origin=origin,
        )  # fmt: skip
    gift.refresh_from_db()
    return gift


@pytest.fixture
def make_gift(db):
    """make_gift(project, **fields): a gift, paid through the ledger unless a status says otherwise
    (amount_refunded_minor= and amount_disputed_minor= refund or dispute it: see record_gift)."""
    return record_gift


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
        import_module("ledger.migrations.0006_finance_sees_reconciliation").give_finance_reconciliation(
            django_apps, None
        )
        import_module("campaigns.migrations.0002_finance_runs_matches").give_finance_matches(
            django_apps, None
        )


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
    """Records every request the stripe library sends and answers with queued responses,
    or by path (route).

    `respond(body, delay=seconds)` answers that request only after the delay: a slow Stripe.
    """

    def __init__(self):
        self.requests = []
        self.responses = []
        self.stopping = threading.Event()
        self.routes = {}
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler_class())
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True
        )

    def respond(self, body, status=200, *, delay=0):
        self.responses.append((status, body, delay))

    def stop(self):
        self.stopping.set()  # a slow answer still waiting is cut short
        self.server.shutdown()
        self.server.server_close()

    def route(self, method, path, answer, status=200):
        """Answer every `method` request to `path` (its query aside) with `answer`: a body,
        or a function of the recorded request that returns a body or (status, body)."""
        self.routes[(method, path)] = (status, answer)

    def _reply(self, request):
        if (request["method"], request["route"]) in self.routes:
            status, answer = self.routes[(request["method"], request["route"])]
            body = answer(request) if callable(answer) else answer
            return (*body, 0) if isinstance(body, tuple) else (status, body, 0)
        return self.responses.pop(0) if self.responses else (500, {"error": {}}, 0)

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
                url = urlsplit(self.path)
                request = {
                    "method": self.command,
                    "path": self.path,
                    "route": url.path,
                    # A GET's (or DELETE's) parameters, from its query string.
                    "query": dict(parse_qsl(url.query, keep_blank_values=True)),
                    "headers": dict(self.headers),
                    "params": dict(parse_qsl(raw or url.query, keep_blank_values=True)),
                }
                stub.requests.append(request)
                status, body, delay = stub._reply(request)
                if delay and stub.stopping.wait(delay):
                    return
                data = json.dumps(body).encode()
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.send_header("Content-Length", str(len(data)))
                    self.send_header("Request-Id", "req_stub")
                    self.end_headers()
                    self.wfile.write(data)
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the client stopped waiting (a timeout): as Stripe would, answer no one

            def log_message(self, *args):
                pass

        return Handler


@pytest.fixture
def stripe_stub(settings):
    stub = StripeStub()
    stub.thread.start()
    settings.STRIPE_API_BASE = stub.url
    yield stub
    stub.stop()


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


def money(gift):
    """A gift's figures as the site reads them: sums of its ledger entries."""
    from ledger.figures import gift_money

    return gift_money(gift)


# Money steps as Stripe's events apply them: each locks the gift, then calls ledger.services.


def _locked(gift):
    from donations.models import Gift

    locked = Gift.objects.select_for_update().get(pk=gift.pk)
    locked.remember_locked_row()
    return locked


def _origin():
    from ledger.services import Origin

    return Origin.staff(None, "test")


def pay(gift, *, amount_minor=None, currency=None, fee_covered_minor=None, paid_at=None):
    from django.db import transaction

    from ledger import services

    with transaction.atomic():
        locked = _locked(gift)
        services.record_payment(
            locked,
            amount_minor=locked.amount_minor if amount_minor is None else amount_minor,
            currency=currency or locked.currency,
            fee_covered_minor=locked.fee_covered_minor if fee_covered_minor is None else fee_covered_minor,
            paid_at=paid_at or timezone.now(),
            origin=_origin(),
        )
    gift.refresh_from_db()
    return gift


def refund(gift, refunded_total, *, as_of, currency=None):
    """Stripe's cumulative refunded amount of the gift's charge, as of `as_of` (Unix seconds)."""
    from django.db import transaction

    from ledger import services

    with transaction.atomic():
        locked = _locked(gift)
        services.record_refund(
            locked, refunded_total=refunded_total, currency=currency or locked.currency, as_of=as_of,
            origin=_origin(),
        )  # fmt: skip
    gift.refresh_from_db()
    return gift


def fail_refund(gift, refund_id, amount, *, as_of):
    from django.db import transaction

    from ledger import services

    with transaction.atomic():
        locked = _locked(gift)
        services.record_failed_refund(
            locked,
            refund_id=refund_id,
            amount=amount,
            currency=locked.currency,
            as_of=as_of,
            origin=_origin(),
        )
    gift.refresh_from_db()
    return gift


def dispute(gift, dispute_id, amount, *, closed=None):
    """Open a dispute; closed="won" or "lost" closes it."""
    from django.db import transaction

    from ledger import services

    with transaction.atomic():
        locked = _locked(gift)
        if closed is None:
            services.record_dispute_opened(
                locked, dispute_id=dispute_id, amount=amount, currency=locked.currency,
                occurred_at=timezone.now(), origin=_origin(),
            )  # fmt: skip
        else:
            services.record_dispute_closed(
                locked, dispute_id=dispute_id, won=closed == "won", amount=amount, currency=locked.currency,
                occurred_at=timezone.now(), origin=_origin(),
            )  # fmt: skip
    gift.refresh_from_db()
    return gift


def bulk_paid_gifts(gifts, refunded=None):
    """Insert many paid gifts at once, each with its payment entry (and a refund entry for
    the amount `refunded[i]` of the i-th gift), as a bulk load would (bench/seed.py), then
    recount the stored sums: for tests that need hundreds of gifts."""
    from donations.models import Gift, Project, money_writes
    from ledger.models import Entry

    refunded = refunded or [0] * len(gifts)
    for gift, back in zip(gifts, refunded, strict=True):
        gift.status = Gift.Status.REFUNDED if back >= gift.amount_minor else (
            Gift.Status.PARTIALLY_REFUNDED if back else Gift.Status.SUCCEEDED
        )  # fmt: skip
        gift.net_minor = gift.amount_minor - back
        gift.paid_at = gift.paid_at or timezone.now()

    def entry(gift, kind, amount):
        return Entry(
            key=f"gift:{gift.public_id}:{kind}",
            kind=kind,
            project_id=gift.project_id,
            gift=gift,
            amount_minor=amount,
            currency=gift.currency,
            occurred_at=gift.paid_at,
            source=Entry.Source.MIGRATION,
            livemode=gift.livemode,
        )

    with money_writes():
        created = Gift.objects.bulk_create(gifts)
        entries = [entry(gift, Entry.Kind.PAYMENT, gift.amount_minor) for gift in created]
        entries += [
            entry(g, Entry.Kind.REFUND, -back) for g, back in zip(created, refunded, strict=True) if back
        ]
        Entry.objects.bulk_create(entries)
    Project.objects.recount_totals()
    return created
