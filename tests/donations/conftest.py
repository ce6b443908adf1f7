"""Fixtures for the giving tests: Stripe events built from tests/fixtures/stripe, and gifts.

The shared ones (`stripe_stub`, `post_event`, the factories) live in tests/conftest.py.
"""

import copy
import secrets
import time

import pytest
from django.urls import reverse

from tests.conftest import image_upload, load_stripe_fixture, sign


@pytest.fixture
def make_project(make_project):
    """The shared factory with a small picture: these tests never look at it, and renditions take time."""

    def make(**fields):
        fields.setdefault("image", image_upload("project.png", size=(160, 100)))
        return make_project(**fields)

    return make


def _metadata(gift):
    return {
        "podari_site": "podari-life",
        "gift_public_id": str(gift.public_id),
        "project_id": str(gift.project_id),
        "project_slug": gift.project.slug,
    }


@pytest.fixture
def stripe_event():
    """stripe_event(name, gift=None, **fields): a copy of tests/fixtures/stripe/<name>.json.

    It gets a fresh event id and creation time. With `gift`, its data.object is tied to
    that gift the way our checkout session ties it (session id, client_reference_id,
    metadata, amount); `fields` then overwrite anything on data.object.
    """

    def make(name, *, gift=None, **fields):
        event = load_stripe_fixture(name)
        event["id"] = f"evt_test_{secrets.token_hex(12)}"
        event["created"] = int(time.time())
        obj = event["data"]["object"]
        if gift is not None:
            obj["metadata"] = _metadata(gift)
            obj["currency"] = gift.currency
            if obj["object"] == "checkout.session":
                obj["id"] = gift.stripe_checkout_session_id
                obj["client_reference_id"] = str(gift.public_id)
                obj["amount_subtotal"] = obj["amount_total"] = gift.amount_minor
            else:
                obj["amount"] = obj["amount_captured"] = gift.amount_minor
                if gift.stripe_payment_intent_id:
                    obj["payment_intent"] = gift.stripe_payment_intent_id
        obj.update(copy.deepcopy(fields))
        return event

    return make


@pytest.fixture
def make_pending_gift(make_gift):
    """A gift as the donate form leaves it: pending, with its checkout session started."""
    from donations.models import Gift

    def make(project, **fields):
        fields.setdefault("status", Gift.Status.PENDING)
        fields.setdefault("stripe_checkout_session_id", f"cs_test_{secrets.token_hex(24)}")
        return make_gift(project, **fields)

    return make


@pytest.fixture
def signed_headers():
    """signed_headers(payload): the Stripe-Signature header Stripe would send, for a Client of one's own."""

    def make(payload, *, secret=None, timestamp=None):
        return {"Stripe-Signature": sign(payload, secret, timestamp)}

    return make


@pytest.fixture
def checkout_session():
    """checkout_session(): the open Checkout Session Stripe answers a create call with."""

    def make(session_id=None):
        session = load_stripe_fixture("checkout_session_completed")["data"]["object"]
        session_id = session_id or f"cs_test_{secrets.token_hex(24)}"
        session.update(
            id=session_id,
            status="open",
            payment_status="unpaid",
            payment_intent=None,
            customer_details=None,
            url=f"https://checkout.stripe.com/c/pay/{session_id}#fidkdWxOYHwnPyd1blpxYHZxWjA0",
        )
        return session

    return make


@pytest.fixture
def donate(client):
    """donate(project=None, client=client, **fields): POST the donate form as a donor fills it."""

    def post(project=None, *, client=client, **fields):
        data = {"amount_preset": "5000", "amount_custom": "", "donor_name": "", "donor_email": ""}
        if project is not None:
            data["project"] = project.slug
        data.update(fields)
        return client.post(reverse("donations:donate"), data)

    return post
