"""Reconciliation with Stripe, against a local Stripe stub through the real stripe library:
each difference is found by a dry run, which changes nothing, and repaired only when asked."""

import math
import secrets
import time
from datetime import timedelta

import pytest
from auditlog.models import LogEntry
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift, Project, RecurringGift, StripeEvent
from donors.models import Email
from ledger import reconciliation
from ledger.audit import differences as ledger_differences
from ledger.models import Difference, Entry, ReconciliationCheckpoint, ReconciliationRun
from tests.conftest import money, record_gift
from tests.ledger.stripe_answers import (
    HANDLED_TYPES,
    SUBSCRIPTION,
    api_object,
    balance_transaction,
    charge,
    event,
    event_object,
    not_found,
    page,
    paid_session,
    rate_limited,
)

pytestmark = pytest.mark.django_db

EMPTY = page([])


@pytest.fixture
def stripe(stripe_stub):
    """The stub answering every list with nothing, unless a test says otherwise."""
    for path in ("/v1/events", "/v1/balance_transactions", "/v1/payouts"):
        stripe_stub.route("GET", path, EMPTY)
    return stripe_stub


def requests_to(stub, path):
    return [r for r in stub.requests if r["route"] == path]


def reconcile(*steps, repair=False, sleep=None, **options):
    options = reconciliation.Options(repair=repair, steps=steps or reconciliation.STEPS, **options)
    return reconciliation.reconcile(options, sleep=sleep or (lambda seconds: None))


def hours_ago(hours):
    return timezone.now() - timedelta(hours=hours)


@pytest.fixture
def pending_gift(project):
    """A gift the donor paid at Stripe two hours ago, whose webhook never came."""
    gift = Gift.objects.create(
        project=project,
        amount_minor=2_500,
        currency="usd",
        fee_covered_minor=87,
        donor_email="ada@example.com",
        stripe_checkout_session_id=f"cs_test_{secrets.token_hex(24)}",
    )
    Gift.objects.filter(pk=gift.pk).update(created_at=hours_ago(2))
    gift.refresh_from_db()
    return gift


# 1. A payment whose webhook never came


def test_a_dry_run_lists_a_payment_whose_webhook_never_came_and_changes_nothing(stripe, pending_gift):
    stripe.route(
        "GET", f"/v1/checkout/sessions/{pending_gift.stripe_checkout_session_id}", paid_session(pending_gift)
    )

    run = reconcile("checkouts")

    [lookup] = requests_to(stripe, f"/v1/checkout/sessions/{pending_gift.stripe_checkout_session_id}")
    assert lookup["method"] == "GET"
    assert lookup["query"] == {"expand[0]": "payment_intent"}
    assert run.status == ReconciliationRun.Status.FINISHED and not run.repair
    [found] = run.differences.all()
    assert found.kind == Difference.Kind.MISSING_IN_LEDGER
    assert found.gift == pending_gift and not found.repaired
    assert (found.stripe_amount_minor, found.ledger_amount_minor, found.currency) == (2_587, 0, "usd")
    assert "$25.87" in found.description and "webhook never came" in found.description
    pending_gift.refresh_from_db()
    assert pending_gift.status == Gift.Status.PENDING
    assert not Entry.objects.exists()
    assert not StripeEvent.objects.exists()
    assert not Email.objects.exists()


def test_a_repair_records_a_payment_whose_webhook_never_came_tagged_with_its_run(
    stripe, pending_gift, django_capture_on_commit_callbacks, mailoutbox
):
    paid_at = int(hours_ago(2).timestamp()) + 60
    session = paid_session(pending_gift, paid_at=paid_at)
    stripe.route("GET", f"/v1/checkout/sessions/{pending_gift.stripe_checkout_session_id}", session)

    with django_capture_on_commit_callbacks(execute=True):
        run = reconcile("checkouts", repair=True)

    gift = Gift.objects.get(pk=pending_gift.pk)
    assert gift.status == Gift.Status.SUCCEEDED
    assert gift.stripe_payment_intent_id == "pi_3QbXy2B7WZ01zgkW1aB2cD3e"
    assert int(gift.paid_at.timestamp()) == paid_at
    assert (money(gift).gift_minor, money(gift).covered_fee_minor) == (2_500, 87)
    entries = list(gift.entries.all())
    assert len(entries) == 2
    assert all(e.reconciliation_run == run and e.source == Entry.Source.RECONCILIATION for e in entries)
    [found] = run.differences.all()
    assert found.repaired and found.kind == Difference.Kind.MISSING_IN_LEDGER
    # Applied as the event Stripe would have sent, kept with the other events.
    stored = StripeEvent.objects.get()
    assert stored.type == "checkout.session.completed" and stored.status == StripeEvent.Status.PROCESSED
    assert stored.payload["podari_reconciliation_run"] == run.pk
    # The audit log says which run changed the gift.
    change = LogEntry.objects.get_for_object(gift).filter(action=LogEntry.Action.UPDATE).latest("timestamp")
    assert change.additional_data == {"reconciliation_run": run.pk}
    assert change.cid == f"reconciliation-{run.pk}"
    # The donor's receipt, once, to the address Stripe's Checkout confirmed (the payer's).
    assert Email.objects.filter(key=f"receipt:{gift.pk}").count() == 1
    assert [m.to for m in mailoutbox] == [["jane.donor@example.com"]]
    assert ledger_differences() == []

    # A second repair finds nothing left to do.
    again = reconcile("checkouts", repair=True)
    assert not again.differences.exists()
    assert gift.entries.count() == 2


def test_a_checkout_that_expired_unpaid_is_marked_abandoned_only_on_repair(stripe, pending_gift):
    session = event_object(
        "checkout_session_expired",
        id=pending_gift.stripe_checkout_session_id,
        metadata={"podari_site": "podari-life", "gift_public_id": str(pending_gift.public_id)},
    )
    stripe.route("GET", f"/v1/checkout/sessions/{pending_gift.stripe_checkout_session_id}", session)

    dry = reconcile("checkouts")
    assert [d.kind for d in dry.differences.all()] == [Difference.Kind.STALE]
    assert Gift.objects.get(pk=pending_gift.pk).status == Gift.Status.PENDING

    repair = reconcile("checkouts", repair=True)
    assert Gift.objects.get(pk=pending_gift.pk).status == Gift.Status.ABANDONED
    assert repair.differences.get().repaired


def test_a_checkout_still_open_or_younger_than_an_hour_is_left_alone(stripe, project, pending_gift):
    young = Gift.objects.create(
        project=project, amount_minor=1_000, currency="usd", stripe_checkout_session_id="cs_test_young"
    )
    stripe.route(
        "GET",
        f"/v1/checkout/sessions/{pending_gift.stripe_checkout_session_id}",
        paid_session(pending_gift, status="open", payment_status="unpaid", payment_intent=None),
    )

    run = reconcile("checkouts", repair=True)

    assert not run.differences.exists()
    assert not requests_to(stripe, f"/v1/checkout/sessions/{young.stripe_checkout_session_id}")
    assert Gift.objects.get(pk=pending_gift.pk).status == Gift.Status.PENDING


def test_a_checkout_session_stripe_does_not_know_is_listed(stripe, pending_gift):
    stripe.route("GET", f"/v1/checkout/sessions/{pending_gift.stripe_checkout_session_id}", not_found())

    run = reconcile("checkouts", repair=True)

    [found] = run.differences.all()
    assert found.kind == Difference.Kind.STALE and "Stripe has no checkout session" in found.description
    assert Gift.objects.get(pk=pending_gift.pk).status == Gift.Status.PENDING


def test_a_monthly_gift_whose_checkout_and_first_invoice_webhooks_never_came_starts_on_repair(
    stripe, project
):
    gift = Gift.objects.create(
        project=project, amount_minor=2_500, currency="usd", donor_email="ada@example.com",
        stripe_checkout_session_id=f"cs_test_{secrets.token_hex(24)}",
    )  # fmt: skip
    recurring = RecurringGift.begin(gift)
    Gift.objects.filter(pk=gift.pk).update(created_at=hours_ago(2))
    meta = {
        "podari_site": "podari-life", "gift_public_id": str(gift.public_id),
        "recurring_gift_public_id": str(recurring.public_id), "project_id": str(project.pk),
        "amount_minor": "2500", "currency": "usd",
    }  # fmt: skip
    session = event_object(
        "checkout_session_completed_subscription", id=gift.stripe_checkout_session_id, metadata=meta
    )
    invoice = event_object(
        "invoice_paid",
        parent={"type": "subscription_details", "quote_details": None,
                "subscription_details": {"subscription": SUBSCRIPTION, "metadata": meta}},
        payments={"object": "list", "has_more": False, "data": [
            {"object": "invoice_payment", "status": "paid",
             "payment": {"type": "payment_intent", "payment_intent": "pi_first_month"}}]},
    )  # fmt: skip
    stripe.route("GET", f"/v1/checkout/sessions/{gift.stripe_checkout_session_id}", session)
    stripe.route("GET", f"/v1/invoices/{invoice['id']}", invoice)

    dry = reconcile("checkouts")
    assert dry.differences.get().kind == Difference.Kind.MISSING_IN_LEDGER
    assert not requests_to(stripe, f"/v1/invoices/{invoice['id']}")
    assert RecurringGift.objects.get(pk=recurring.pk).status == RecurringGift.Status.INCOMPLETE

    run = reconcile("checkouts", repair=True)

    [lookup] = requests_to(stripe, f"/v1/invoices/{invoice['id']}")
    assert lookup["query"] == {"expand[0]": "payments"}
    recurring.refresh_from_db()
    assert (recurring.status, recurring.stripe_subscription_id) == (RecurringGift.Status.ACTIVE, SUBSCRIPTION)
    gift.refresh_from_db()
    assert gift.is_paid and gift.stripe_invoice_id == invoice["id"]
    assert gift.stripe_payment_intent_id == "pi_first_month"
    assert {e.reconciliation_run for e in gift.entries.all()} == {run}
    assert run.differences.get().repaired
    assert monthly_donors(project) == 1
    assert ledger_differences() == []


# 2. A cancelled subscription whose event never came


@pytest.fixture
def running_monthly_gift(project):
    """An active monthly gift whose last payment was 40 days ago."""
    recurring = RecurringGift.objects.create(
        project=project,
        amount_minor=2_500,
        currency="usd",
        status=RecurringGift.Status.ACTIVE,
        stripe_subscription_id=SUBSCRIPTION,
        stripe_customer_id="cus_RVd8kz1qPm3xYb",
        started_at=timezone.now() - timedelta(days=70),
        state_as_of=int((timezone.now() - timedelta(days=40)).timestamp()),
    )
    record_gift(
        project, amount_minor=2_500, recurring_gift=recurring, frequency=Gift.Frequency.MONTHLY,
        stripe_invoice_id="in_month_2", paid_at=timezone.now() - timedelta(days=40),
    )  # fmt: skip
    return recurring


def monthly_donors(project):
    return Project.objects.with_monthly_giving().get(pk=project.pk).monthly_donors


def test_a_cancelled_subscription_whose_event_never_came_is_found_and_cancelled_only_on_repair(
    stripe, project, running_monthly_gift
):
    cancelled_at = int((timezone.now() - timedelta(days=10)).timestamp())
    subscription = event_object(
        "customer_subscription_deleted",
        status="canceled",
        canceled_at=cancelled_at,
        ended_at=cancelled_at,
        metadata={
            "podari_site": "podari-life",
            "recurring_gift_public_id": str(running_monthly_gift.public_id),
        },
    )
    stripe.route("GET", f"/v1/subscriptions/{SUBSCRIPTION}", subscription)
    assert monthly_donors(project) == 1

    dry = reconcile("subscriptions")

    [lookup] = requests_to(stripe, f"/v1/subscriptions/{SUBSCRIPTION}")
    assert lookup["method"] == "GET" and lookup["query"] == {}
    [found] = dry.differences.all()
    assert found.kind == Difference.Kind.STATUS and not found.repaired
    assert SUBSCRIPTION in found.description and "canceled" in found.description
    assert RecurringGift.objects.get(pk=running_monthly_gift.pk).status == RecurringGift.Status.ACTIVE
    assert monthly_donors(project) == 1

    repair = reconcile("subscriptions", repair=True)

    recurring = RecurringGift.objects.get(pk=running_monthly_gift.pk)
    assert recurring.status == RecurringGift.Status.CANCELLED
    assert int(recurring.cancelled_at.timestamp()) == cancelled_at
    assert recurring.cancellation_reason == (
        "Cancelled at the donor's request; feedback: other; Moving abroad, will give again"
    )
    assert repair.differences.get().repaired
    assert monthly_donors(project) == 0
    assert StripeEvent.objects.get().type == "customer.subscription.deleted"
    # Cancelled now: the next run does not look it up again.
    assert not reconcile("subscriptions", repair=True).differences.exists()


def test_a_monthly_payment_whose_invoice_event_never_came_is_recorded_on_repair(
    stripe, project, running_monthly_gift
):
    subscription = event_object(
        "customer_subscription_updated", status="active", latest_invoice="in_month_3", metadata={}
    )
    invoice = event_object(
        "invoice_paid",
        id="in_month_3",
        billing_reason="subscription_cycle",
        amount_paid=2_500,
        parent={
            "type": "subscription_details",
            "quote_details": None,
            "subscription_details": {
                "subscription": SUBSCRIPTION,
                "metadata": {
                    "podari_site": "podari-life",
                    "recurring_gift_public_id": str(running_monthly_gift.public_id),
                    "project_id": str(project.pk),
                },
            },
        },
        payments={
            "object": "list",
            "has_more": False,
            "data": [{"object": "invoice_payment", "status": "paid",
                      "payment": {"type": "payment_intent", "payment_intent": "pi_month_3"}}],
        },
    )  # fmt: skip
    stripe.route("GET", f"/v1/subscriptions/{SUBSCRIPTION}", subscription)
    stripe.route("GET", "/v1/invoices/in_month_3", invoice)

    run = reconcile("subscriptions", repair=True)

    [lookup] = requests_to(stripe, "/v1/invoices/in_month_3")
    assert lookup["query"] == {"expand[0]": "payments"}
    gift = Gift.objects.get(stripe_invoice_id="in_month_3")
    assert gift.is_paid and gift.recurring_gift == running_monthly_gift
    assert gift.stripe_payment_intent_id == "pi_month_3"
    assert all(e.reconciliation_run == run for e in gift.entries.all())
    assert run.differences.get().kind == Difference.Kind.MISSING_IN_LEDGER
    assert ledger_differences() == []


# 3. An event Stripe lists as undelivered


def test_an_undelivered_event_is_applied_on_repair_once_even_when_delivered_later(
    stripe, pending_gift, post_event
):
    created = int(time.time()) - 600
    undelivered = event("checkout_session_completed", obj=paid_session(pending_gift), created=created)
    undelivered["data"]["object"]["payment_intent"] = "pi_3QbXy2B7WZ01zgkW1aB2cD3e"  # as events carry it
    stripe.route("GET", "/v1/events", page([undelivered]))

    dry = reconcile("events")

    [listing] = requests_to(stripe, "/v1/events")
    since = int(listing["query"]["created[gte]"])
    assert abs(since - (int(time.time()) - 30 * 24 * 3600)) < 60  # as far back as Stripe keeps events
    assert listing["query"] == {
        "delivery_success": "false",
        "created[gte]": str(since),
        "limit": "100",
        **{f"types[{i}]": name for i, name in enumerate(HANDLED_TYPES)},
    }
    [found] = dry.differences.all()
    assert found.kind == Difference.Kind.UNDELIVERED_EVENT and not found.repaired
    assert found.stripe_object_id == undelivered["id"] and found.gift == pending_gift
    assert not StripeEvent.objects.exists() and not Entry.objects.exists()
    assert not ReconciliationCheckpoint.objects.exists()  # a dry run moves no checkpoint

    repair = reconcile("events", repair=True)

    gift = Gift.objects.get(pk=pending_gift.pk)
    assert gift.is_paid
    assert {e.reconciliation_run for e in gift.entries.all()} == {repair}
    stored = StripeEvent.objects.get(stripe_id=undelivered["id"])
    assert stored.status == StripeEvent.Status.PROCESSED
    assert repair.differences.get().repaired
    checkpoint = ReconciliationCheckpoint.objects.get(name="undelivered_events")
    assert time.time() - 400 < checkpoint.created_after <= time.time() - 300

    # Stripe delivers it after all: stored already, applied once.
    response = post_event(undelivered)
    assert response.status_code == 200
    assert gift.entries.count() == 2
    assert StripeEvent.objects.count() == 1
    assert Email.objects.filter(key=f"receipt:{gift.pk}").count() == 1

    # The next run lists from the checkpoint, and finds it applied.
    later = reconcile("events", repair=True)
    assert requests_to(stripe, "/v1/events")[-1]["query"]["created[gte]"] == str(checkpoint.created_after)
    assert not later.differences.exists()
    assert later.summary["steps"]["events"]["applied_before"] == 1


def test_an_undelivered_event_whose_handler_fails_is_kept_for_replay_and_the_run_goes_on(stripe, project):
    # This site's marker, a gift the site has lost, and no general fund to give it to.
    lost = event_object(
        "checkout_session_completed",
        metadata={"podari_site": "podari-life", "gift_public_id": "6f1c2b7e-3d4a-4c8e-9b1f-2a7d5e0c9f13"},
    )
    stripe.route("GET", "/v1/events", page([event("checkout_session_completed", obj=lost)]))

    run = reconcile("events", "checkouts", repair=True)

    assert run.status == ReconciliationRun.Status.FINISHED
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEvent.Status.FAILED and "no general fund" in stored.last_error
    [found] = run.differences.all()
    assert not found.repaired and "applying it failed (RuntimeError" in found.description
    assert not Entry.objects.exists()


def test_an_undelivered_event_of_another_tool_is_not_listed_for_finance(stripe, project):
    shop_session = event_object("checkout_session_completed", metadata={"shop_order": "42"})
    stripe.route("GET", "/v1/events", page([event("checkout_session_completed", obj=shop_session)]))

    dry = reconcile("events")
    assert not dry.differences.exists()
    assert dry.summary["steps"]["events"]["not_this_sites"] == 1

    repair = reconcile("events", repair=True)
    # Stored as its delivery would be, as not this site's; nothing changes.
    assert StripeEvent.objects.get().status == StripeEvent.Status.SKIPPED
    assert not repair.differences.exists()
    assert not Gift.objects.exists()


# 4. A payout that does not add up


@pytest.fixture
def payout_short_by_five_dollars(stripe):
    payout = api_object(
        "payout", id="po_1Pgc79B7WZ01zgkWu1KToYf4", amount=10_000, automatic=True, status="paid"
    )
    contents = [
        balance_transaction({"id": "ch_a", "amount": 6_000, "currency": "usd"}, fee=0),
        balance_transaction({"id": "ch_b", "amount": 3_500, "currency": "usd"}, fee=0),
        balance_transaction({"id": payout["id"], "amount": 10_000, "currency": "usd"}, kind="payout"),
    ]

    def transactions(request):
        return page(contents) if request["query"].get("payout") == payout["id"] else EMPTY

    stripe.route("GET", "/v1/payouts", page([payout]))
    stripe.route("GET", "/v1/balance_transactions", transactions)
    return payout


def test_a_payout_that_does_not_add_up_is_listed(stripe, payout_short_by_five_dollars):
    start, end = timezone.now() - timedelta(days=1), timezone.now()

    run = reconcile("payouts", since=start, until=end)

    [payouts] = requests_to(stripe, "/v1/payouts")
    assert payouts["query"] == {
        "created[gte]": str(int(start.timestamp())),
        "created[lt]": str(math.ceil(end.timestamp())),
        "limit": "100",
    }
    [contents] = requests_to(stripe, "/v1/balance_transactions")
    assert contents["query"] == {
        "payout": "po_1Pgc79B7WZ01zgkWu1KToYf4",
        "limit": "100",
        "expand[0]": "data.source",
    }
    [found] = run.differences.all()
    assert found.kind == Difference.Kind.PAYOUT
    assert (found.stripe_amount_minor, found.ledger_amount_minor) == (10_000, 9_500)
    assert "its 2 transactions add up to $95, $5 apart" in found.description


# The balance: payments, refunds and fees against the ledger


def test_the_balance_lists_money_the_ledger_lacks_and_amount_refund_and_fee_differences(
    stripe, project, pending_gift
):
    now = int(time.time())
    paid = record_gift(project, amount_minor=5_000, fee_covered_minor=141, stripe_payment_intent_id="pi_paid")
    refunded_at_stripe = record_gift(project, amount_minor=3_000, stripe_payment_intent_id="pi_refunded")
    missing_at_stripe = record_gift(project, amount_minor=1_000, stripe_payment_intent_id="pi_gone")
    listed = [
        # This site's payment the ledger lacks (its gift still pending).
        balance_transaction(charge(pending_gift, payment_intent="pi_pending"), fee=87, created=now - 60),
        # Paid; the donor covered $1.41 and Stripe took $1.50.
        balance_transaction(charge(paid), fee=150, created=now - 50),
        # Stripe refunded $10 of it; the ledger has no refund.
        balance_transaction(charge(refunded_at_stripe, amount_refunded=1_000, refunded=False), fee=96),
        # Another tool's sale: not this site's.
        balance_transaction(charge(paid, payment_intent="pi_shop", metadata={}), fee=59),
    ]
    stripe.route("GET", "/v1/balance_transactions", page(listed))
    stripe.route("GET", "/v1/payment_intents/pi_gone", not_found("payment_intent"))
    start, end = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(minutes=1)

    run = reconcile("balance", since=start, until=end)

    [listing] = requests_to(stripe, "/v1/balance_transactions")
    assert listing["query"] == {
        "created[gte]": str(int(start.timestamp())),
        "created[lt]": str(math.ceil(end.timestamp())),
        "limit": "100",
        "expand[0]": "data.source",
    }
    found = {(d.kind, d.gift_id): d for d in run.differences.all()}
    assert set(found) == {
        (Difference.Kind.MISSING_IN_LEDGER, pending_gift.pk),
        (Difference.Kind.FEE, paid.pk),
        (Difference.Kind.STATUS, refunded_at_stripe.pk),
        (Difference.Kind.MISSING_IN_STRIPE, missing_at_stripe.pk),
    }
    fee = found[(Difference.Kind.FEE, paid.pk)]
    assert (fee.ledger_amount_minor, fee.stripe_amount_minor) == (141, 150)
    refund = found[(Difference.Kind.STATUS, refunded_at_stripe.pk)]
    assert (refund.ledger_amount_minor, refund.stripe_amount_minor) == (0, 1_000)
    assert run.summary["steps"]["balance"]["not_this_sites"] == 1
    # Only listed: nothing is changed by the balance comparison, even on repair.
    repair = reconcile("balance", repair=True, since=start, until=end)
    assert repair.differences.count() == 4
    assert Gift.objects.get(pk=pending_gift.pk).status == Gift.Status.PENDING
    assert money(refunded_at_stripe).refunded_minor == 0


def test_a_dispute_in_the_balance_the_ledger_lacks_is_listed_with_its_charge_as_stripe_has_it(
    stripe, project
):
    gift = record_gift(project, amount_minor=4_000, stripe_payment_intent_id="pi_disputed")
    disputed = charge(gift, charge_id="ch_disputed", disputed=True)
    dispute = api_object(
        "dispute",
        id="dp_1",
        charge="ch_disputed",
        payment_intent="pi_disputed",
        amount=4_000,
        status="needs_response",
    )
    adjustment = balance_transaction(dispute, kind="adjustment", fee=1_500)
    stripe.route("GET", "/v1/balance_transactions", page([adjustment]))
    stripe.route("GET", "/v1/charges/ch_disputed", disputed)
    start, end = timezone.now() - timedelta(hours=1), timezone.now() + timedelta(minutes=1)

    run = reconcile("balance", since=start, until=end)

    [lookup] = requests_to(stripe, "/v1/charges/ch_disputed")
    assert (lookup["method"], lookup["query"]) == ("GET", {})
    [found] = run.differences.all()
    assert found.kind == Difference.Kind.STATUS and found.gift == gift
    assert "dispute dp_1 is needs response; the ledger has no dispute" in found.description


def test_the_balance_agrees_with_a_ledger_that_agrees_with_stripe(stripe, project):
    gift = record_gift(project, amount_minor=2_500, fee_covered_minor=87, stripe_payment_intent_id="pi_ok")
    stripe.route("GET", "/v1/balance_transactions", page([balance_transaction(charge(gift), fee=87)]))

    run = reconcile(
        "balance", since=timezone.now() - timedelta(hours=1), until=timezone.now() + timedelta(minutes=1)
    )

    assert not run.differences.exists()
    assert run.summary["steps"]["balance"]["matched"] == 1


# 5. Rate limits


def test_a_rate_limited_run_backs_off_stops_and_the_next_run_resumes_from_its_cursor(stripe, project):
    first = event("checkout_session_completed", obj=event_object("checkout_session_completed", metadata={}))
    second = event("checkout_session_completed", obj=event_object("checkout_session_completed", metadata={}))
    answers = [page([first], has_more=True), *[rate_limited()] * 4, page([second])]
    stripe.route("GET", "/v1/events", lambda request: answers.pop(0))
    slept = []

    interrupted = reconcile("events", "balance", repair=True, sleep=slept.append)

    assert slept == [1, 2, 4]
    assert interrupted.status == ReconciliationRun.Status.INTERRUPTED
    assert interrupted.summary["stopped"]["step"] == "events"
    assert interrupted.cursors["events"]["starting_after"] == first["id"]
    assert not requests_to(stripe, "/v1/balance_transactions")  # the run stopped there
    assert not ReconciliationCheckpoint.objects.exists()
    listings = requests_to(stripe, "/v1/events")
    assert len(listings) == 5
    assert all(r["query"]["starting_after"] == first["id"] for r in listings[1:])

    resumed = reconcile("events", repair=True, sleep=slept.append)

    resumed_listing = requests_to(stripe, "/v1/events")[-1]
    assert resumed_listing["query"]["starting_after"] == first["id"]
    assert resumed_listing["query"]["created[gte]"] == listings[0]["query"]["created[gte]"]
    assert resumed.status == ReconciliationRun.Status.FINISHED
    assert resumed.summary["steps"]["events"]["listed"] == 1
    # The list was read to its end: the checkpoint is where the first run started reading.
    listed_at = interrupted.cursors["events"]["listed_at"]
    assert ReconciliationCheckpoint.objects.get().created_after == listed_at - 300
    assert StripeEvent.objects.count() == 2  # both stored, as their deliveries would be


def test_a_run_does_not_start_while_another_is_running(stripe):
    ReconciliationRun.objects.create(repair=False, status=ReconciliationRun.Status.RUNNING)

    with pytest.raises(reconciliation.AlreadyRunning):
        reconcile("events")


def test_a_run_left_running_for_hours_is_taken_as_interrupted(stripe):
    stuck = ReconciliationRun.objects.create(
        repair=False, status=ReconciliationRun.Status.RUNNING, started_at=timezone.now() - timedelta(hours=7)
    )

    run = reconcile("events")

    stuck.refresh_from_db()
    assert stuck.status == ReconciliationRun.Status.INTERRUPTED
    assert run.status == ReconciliationRun.Status.FINISHED


# The command


def test_the_command_runs_a_dry_run_and_prints_the_finance_page(stripe, pending_gift, capsys):
    stripe.route(
        "GET", f"/v1/checkout/sessions/{pending_gift.stripe_checkout_session_id}", paid_session(pending_gift)
    )

    call_command("reconcile_stripe")

    out = capsys.readouterr().out
    run = ReconciliationRun.objects.get()
    assert not run.repair and run.started_by == "manage.py reconcile_stripe"
    assert run.checks == list(reconciliation.STEPS)
    assert f"Dry run {run.pk}: 1 difference(s)" in out
    assert f"http://testserver/admin/reconciliation/{run.pk}/" in out
    assert Gift.objects.get(pk=pending_gift.pk).status == Gift.Status.PENDING


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--since", "2026-02-30"], "is not a date"),
        (["--since", "yesterday"], "is not a date"),
        (["--steps", "events,everything"], "Steps are a comma-separated choice"),
        (["--since", "2026-03-02", "--until", "2026-03-01"], "The window ends before it starts"),
        (["--stale-after-minutes", "-5"], "is not a whole number"),
    ],
)
def test_the_command_refuses_bad_input_with_a_clear_error(stripe, arguments, message):
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match=message):
        call_command("reconcile_stripe", *arguments)
    assert not ReconciliationRun.objects.exists()


def test_the_command_needs_stripe(settings):
    from django.core.management.base import CommandError

    settings.STRIPE_SECRET_KEY, settings.SIMULATED_CHECKOUT = "", False
    with pytest.raises(CommandError, match="Stripe is not configured"):
        call_command("reconcile_stripe")


def test_the_command_says_when_a_run_was_interrupted(stripe):
    from django.core.management.base import CommandError

    refused = (401, {"error": {"type": "invalid_request_error", "message": "Invalid API Key"}})
    stripe.route("GET", "/v1/events", lambda request: refused)
    with pytest.raises(CommandError, match="stopped in step “events”: Stripe could not answer"):
        call_command("reconcile_stripe", "--steps", "events")
    assert ReconciliationRun.objects.get().status == ReconciliationRun.Status.INTERRUPTED


def test_the_scheduled_task_runs_reconciliation(stripe):
    from ledger.tasks import reconcile_stripe

    result = reconcile_stripe.enqueue(repair=False, steps=["events"])

    run = ReconciliationRun.objects.get()
    assert run.started_by == "scheduled task" and run.checks == ["events"]
    assert result.return_value == {"run": run.pk, "status": "finished", "differences": 0}


# The Finance page


@pytest.fixture
def finance_sees_reconciliation(staff_groups):
    """The Finance group as the migrations leave it (a transactional test elsewhere may
    have flushed the groups, which staff_groups then makes again)."""
    from importlib import import_module

    from django.apps import apps

    import_module("ledger.migrations.0006_finance_sees_reconciliation").give_finance_reconciliation(
        apps, None
    )


def logged_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def test_the_finance_page_lists_a_payout_that_does_not_add_up(
    stripe, payout_short_by_five_dollars, finance_sees_reconciliation, finance_user
):
    run = reconcile("payouts", since=timezone.now() - timedelta(days=1), until=timezone.now())

    response = logged_in(finance_user).get(reverse("ledger_reconciliation"))

    assert response.status_code == 200
    page_html = response.content.decode()
    assert f"What run #{run.pk} found" in page_html
    assert "A payout does not add up" in page_html
    assert "po_1Pgc79B7WZ01zgkWu1KToYf4" in page_html
    assert "$100" in page_html and "$95" in page_html
    assert logged_in(finance_user).get(reverse("ledger_reconciliation_run", args=[run.pk])).status_code == 200


def test_the_finance_page_shows_differences_only_to_finance_and_superusers(
    stripe, pending_gift, finance_sees_reconciliation, finance_user, editor_user, admin_user, client
):
    stripe.route(
        "GET", f"/v1/checkout/sessions/{pending_gift.stripe_checkout_session_id}", paid_session(pending_gift)
    )
    run = reconcile("checkouts")
    urls = [reverse("ledger_reconciliation"), reverse("ledger_reconciliation_run", args=[run.pk])]

    for url in urls:
        assert logged_in(editor_user).get(url).status_code == 403
        assert client.get(url).status_code == 302  # to the admin's login
        for user in (finance_user, admin_user):
            response = logged_in(user).get(url)
            assert response.status_code == 200
            html = response.content.decode()
            assert "Stripe has money from this site the ledger lacks" in html
            # A link to the gift; none of the donor's details.
            assert reverse("admin:donations_gift_change", args=[pending_gift.pk]) in html
            assert "ada@example.com" not in html
    assert (
        logged_in(finance_user).get(reverse("ledger_reconciliation_run", args=[run.pk + 1])).status_code
        == 404
    )
    # Finance and superusers find it from the admin's home page; Editors do not.
    assert reverse("ledger_reconciliation") in logged_in(finance_user).get("/admin/").content.decode()
    assert reverse("ledger_reconciliation") in logged_in(admin_user).get("/admin/").content.decode()
    assert reverse("ledger_reconciliation") not in logged_in(editor_user).get("/admin/").content.decode()


# `make run`: the simulated checkout answers the same calls, and a lost webhook is recovered


@pytest.fixture
def simulated(settings, stripe_stub):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True
    yield
    assert stripe_stub.requests == []  # nothing reached Stripe


def simulated_gift(project, **fields):
    from donations.services import SIMULATED_SESSION_PREFIX

    return Gift.objects.create(
        project=project,
        amount_minor=2_500,
        currency="usd",
        donor_email="ada@example.com",
        stripe_checkout_session_id=SIMULATED_SESSION_PREFIX + secrets.token_hex(16),
        **fields,
    )


def test_a_webhook_lost_in_the_simulated_checkout_is_found_and_recovered(simulated, project, client, capsys):
    from donations.models import SimulatedStripeEvent

    gift = simulated_gift(project, fee_covered_minor=87)
    url = reverse("donations:simulated_checkout", args=[gift.stripe_checkout_session_id])
    assert 'name="lose_webhook"' in client.get(url).content.decode()

    client.post(url, {"action": "pay", "lose_webhook": "1"})

    gift.refresh_from_db()
    assert gift.status == Gift.Status.PENDING and not StripeEvent.objects.exists()
    lost = SimulatedStripeEvent.objects.get()
    assert (lost.type, lost.delivered) == ("checkout.session.completed", False)
    today = timezone.localdate().isoformat()

    call_command("reconcile_stripe", "--stale-after-minutes", "0", "--since", today)

    dry = ReconciliationRun.objects.get()
    assert sorted(dry.differences.values_list("kind", flat=True)) == [
        Difference.Kind.MISSING_IN_LEDGER,  # the session Stripe says is paid
        Difference.Kind.MISSING_IN_LEDGER,  # the charge in Stripe's balance
        Difference.Kind.UNDELIVERED_EVENT,  # the event Stripe could not deliver
    ]
    assert Gift.objects.get(pk=gift.pk).status == Gift.Status.PENDING

    call_command("reconcile_stripe", "--repair", "--stale-after-minutes", "0", "--since", today)

    repair = ReconciliationRun.objects.latest("pk")
    gift.refresh_from_db()
    assert gift.is_paid and (money(gift).gift_minor, money(gift).covered_fee_minor) == (2_500, 87)
    assert {e.reconciliation_run for e in gift.entries.all()} == {repair}
    assert list(repair.differences.values_list("kind", "repaired")) == [
        (Difference.Kind.UNDELIVERED_EVENT, True)
    ]
    assert repair.summary["steps"]["balance"]["matched"] == 1
    assert StripeEvent.objects.get().stripe_id == lost.stripe_id
    assert ledger_differences() == []
    assert f"Repair {repair.pk}: 1 difference(s)" in capsys.readouterr().out


def test_a_simulated_checkout_session_is_answered_from_the_sites_records(simulated, project):
    from donations import services, stripe_gateway

    paid = simulated_gift(project)
    services.pay_simulated_checkout(paid, lose_webhook=True)
    waiting = simulated_gift(project)
    expired = simulated_gift(project)
    Gift.objects.filter(pk=expired.pk).update(created_at=hours_ago(25))

    session = stripe_gateway.retrieve_checkout_session(paid.stripe_checkout_session_id)
    assert (session["status"], session["payment_status"], session["amount_total"]) == (
        "complete",
        "paid",
        2_500,
    )
    assert session["payment_intent"]["id"].startswith("pi_simulated_")
    assert stripe_gateway.retrieve_checkout_session(waiting.stripe_checkout_session_id)["status"] == "open"
    assert stripe_gateway.retrieve_checkout_session(expired.stripe_checkout_session_id)["status"] == "expired"
    with pytest.raises(stripe_gateway.StripeNotFound):
        stripe_gateway.retrieve_checkout_session("cs_test_simulated_unknown")

    run = reconcile("checkouts", repair=True, stale_after=timedelta(0))

    assert Gift.objects.get(pk=paid.pk).is_paid
    assert Gift.objects.get(pk=expired.pk).status == Gift.Status.ABANDONED
    assert Gift.objects.get(pk=waiting.pk).status == Gift.Status.PENDING
    assert sorted(run.differences.values_list("kind", flat=True)) == [
        Difference.Kind.MISSING_IN_LEDGER,
        Difference.Kind.STALE,
    ]
    # The lost event, listed later, records nothing twice.
    again = reconcile("events", repair=True)
    assert again.summary["steps"]["events"]["status_processed"] == 1
    assert Gift.objects.get(pk=paid.pk).entries.count() == 1


def test_a_monthly_gift_cancelled_in_the_simulation_without_its_webhook_is_cancelled_on_repair(
    simulated, project
):
    from donations import services

    gift = simulated_gift(project)
    recurring = RecurringGift.begin(gift)
    services.pay_simulated_checkout(Gift.objects.get(pk=gift.pk))
    recurring.refresh_from_db()
    assert recurring.status == RecurringGift.Status.ACTIVE

    call_command("cancel_simulated_monthly_gift", str(recurring.pk), "--lose-webhook")

    assert RecurringGift.objects.get(pk=recurring.pk).status == RecurringGift.Status.ACTIVE
    dry = reconcile("events")
    assert dry.differences.get().kind == Difference.Kind.UNDELIVERED_EVENT
    reconcile("events", repair=True)
    assert RecurringGift.objects.get(pk=recurring.pk).status == RecurringGift.Status.CANCELLED
    assert monthly_donors(project) == 0


# The sweep of waiting events, on its own schedule


@pytest.mark.parametrize("how", ["command", "task", "reconciliation"])
def test_the_sweep_applies_a_refund_that_waited_for_its_payment(project, capsys, how):
    from donations import webhooks
    from donations.tasks import apply_waiting_events
    from tests.conftest import load_stripe_fixture

    refunded = load_stripe_fixture("charge_refunded")
    refunded["data"]["object"].update(amount=5_000, amount_refunded=5_000, metadata={})
    webhooks.process(webhooks.read_event(refunded))
    assert StripeEvent.objects.get().status == StripeEvent.Status.UNMATCHED
    # Its payment recorded by a path that did not look for it.
    gift = record_gift(project, amount_minor=5_000, stripe_payment_intent_id="pi_3QbXy2B7WZ01zgkW1aB2cD3e")

    if how == "command":
        call_command("apply_waiting_events")
        assert "Applied 1 waiting event(s); 0 still wait." in capsys.readouterr().out
    elif how == "task":
        assert apply_waiting_events.enqueue().return_value == [1, 0]
    else:
        assert reconcile("waiting").summary["steps"]["waiting"] == {"waiting": 1}  # a dry run applies nothing
        run = reconcile("waiting", repair=True)
        assert run.summary["steps"]["waiting"] == {"applied": 1, "waiting": 0}
        assert {e.reconciliation_run for e in gift.entries.filter(kind=Entry.Kind.REFUND)} == {run}

    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED
    assert money(gift).refunded_minor == 5_000
