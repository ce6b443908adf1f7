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
                if gift.donor_email:
                    # The form's address is Checkout's customer_email, which the payer confirms.
                    obj["customer_email"] = obj["customer_details"]["email"] = gift.donor_email
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


# Monthly gifts: a gift as the donate form leaves it, and Stripe's events about it.

SUBSCRIPTION = "sub_1QcM4rB7WZ01zgkWp2Yt6Hn8"


def monthly_metadata(gift):
    recurring = gift.recurring_gift
    metadata = {
        "podari_site": "podari-life",
        "gift_public_id": str(gift.public_id),
        "recurring_gift_public_id": str(recurring.public_id),
        "project_id": str(gift.project_id),
        "project_slug": gift.project.slug,
        "amount_minor": str(recurring.amount_minor),
        "currency": recurring.currency,
    }
    if gift.fee_covered_minor:
        metadata["fee_covered_minor"] = str(gift.fee_covered_minor)
    return metadata


@pytest.fixture
def monthly_gift(make_pending_gift, project):
    """monthly_gift(**fields): a monthly gift as the donate form leaves it: a pending first
    payment and its incomplete recurring record, checkout started."""

    def make(**fields):
        from donations.models import RecurringGift

        fields.setdefault("amount_minor", 2_500)
        gift = make_pending_gift(project, **fields)
        recurring = RecurringGift.begin(gift)
        recurring.stripe_checkout_session_id = gift.stripe_checkout_session_id
        recurring.save()
        gift.refresh_from_db()
        return gift

    return make


@pytest.fixture
def session_completed(stripe_event):
    def make(gift, *, subscription=SUBSCRIPTION, **fields):
        return stripe_event(
            "checkout_session_completed_subscription",
            id=gift.stripe_checkout_session_id,
            client_reference_id=str(gift.public_id),
            metadata=monthly_metadata(gift),
            subscription=subscription,
            amount_subtotal=gift.total_to_charge_minor,
            amount_total=gift.total_to_charge_minor,
            **fields,
        )

    return make


@pytest.fixture
def invoice_event(stripe_event):
    """invoice_event(gift, name="invoice_paid", invoice=..., reason=..., created=..., **fields)."""

    def make(
        gift,
        name="invoice_paid",
        *,
        invoice="in_1QcM4sB7WZ01zgkW3kLm9NbV",
        reason="subscription_create",
        subscription=SUBSCRIPTION,
        created=None,
        metadata=None,
        **fields,
    ):
        charged = gift.total_to_charge_minor
        amounts = {"amount_due": charged, "total": charged, "subtotal": charged}
        if name == "invoice_paid":
            amounts["amount_paid"] = charged
        event = stripe_event(
            name,
            id=invoice,
            billing_reason=reason,
            currency=gift.currency,
            parent={
                "quote_details": None,
                "subscription_details": {
                    "metadata": monthly_metadata(gift) if metadata is None else metadata,
                    "subscription": subscription,
                },
                "type": "subscription_details",
            },
            **amounts,
            **fields,
        )
        if created is not None:
            event["created"] = created
        return event

    return make


@pytest.fixture
def invoice_payment_event(stripe_event):
    def make(invoice="in_1QcM4sB7WZ01zgkW3kLm9NbV", payment_intent="pi_3QcM4tB7WZ01zgkW0fE5gH7j"):
        return stripe_event(
            "invoice_payment_paid",
            invoice=invoice,
            payment={"type": "payment_intent", "payment_intent": payment_intent},
        )

    return make


@pytest.fixture
def subscription_event(stripe_event):
    def make(gift, name="customer_subscription_updated", *, created, subscription=SUBSCRIPTION, **fields):
        fields.setdefault("metadata", monthly_metadata(gift))
        event = stripe_event(name, id=subscription, **fields)
        event["created"] = created
        return event

    return make
