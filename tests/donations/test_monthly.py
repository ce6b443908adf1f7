"""Monthly gifts: the subscription-mode checkout, then one gift per paid invoice.

Every event is posted signed to the webhook, shaped like Stripe's (tests/fixtures/stripe),
and each test then checks what donors and staff would see: totals and statuses.
"""

import contextlib

import pytest

from donations import signals
from donations.models import Donor, Gift, Project, RecurringGift, StripeEvent
from tests.conftest import money
from tests.donations.conftest import SUBSCRIPTION

pytestmark = pytest.mark.django_db


@contextlib.contextmanager
def listening(signal, *keys):
    """Collect what a signal is sent with (the named keyword arguments) while inside."""
    received = []

    def receiver(sender, **kwargs):
        received.append(tuple(kwargs[key] for key in keys) if len(keys) > 1 else kwargs[keys[0]])

    signal.connect(receiver, weak=False, dispatch_uid="test_monthly")
    try:
        yield received
    finally:
        signal.disconnect(dispatch_uid="test_monthly")


def ok(response):
    assert response.status_code == 200, response.content
    return response


def recurring_of(gift):
    return RecurringGift.objects.get(pk=gift.recurring_gift_id)


def project_totals(project):
    project = Project.objects.with_monthly_giving().get(pk=project.pk)
    return project.raised_minor, project.gift_count, project.monthly_donors


# The first month


def test_checkout_then_first_invoice_make_an_active_monthly_gift_with_its_first_payment(
    post_event, project, monthly_gift, session_completed, invoice_event
):
    gift = monthly_gift(donor_email="")

    ok(post_event(session_completed(gift)))
    recurring = recurring_of(gift)
    assert recurring.status == RecurringGift.Status.ACTIVE
    assert recurring.stripe_subscription_id == SUBSCRIPTION
    assert recurring.stripe_customer_id == "cus_RVd8kz1qPm3xYb"
    assert recurring.donor.email == "jane.donor@example.com"
    assert recurring.donor.stripe_customer_id == "cus_RVd8kz1qPm3xYb"
    # The session is not the money: nothing counts until the invoice is paid.
    assert project_totals(project) == (0, 0, 1)

    ok(post_event(invoice_event(gift)))

    gift.refresh_from_db()
    assert gift.status == Gift.Status.SUCCEEDED
    assert gift.stripe_invoice_id == "in_1QcM4sB7WZ01zgkW3kLm9NbV"
    assert gift.recurring_gift_id == recurring.pk
    assert gift.frequency == Gift.Frequency.MONTHLY
    assert gift.donor == recurring.donor
    assert not gift.needs_review
    assert Gift.objects.count() == 1
    assert project_totals(project) == (2_500, 1, 1)


def test_a_renewal_invoice_is_one_more_gift_and_counts(
    post_event, project, monthly_gift, session_completed, invoice_event
):
    gift = monthly_gift(donor_name="Jane Donor", show_name_publicly=True)
    ok(post_event(session_completed(gift)))
    ok(post_event(invoice_event(gift)))

    renewal = invoice_event(gift, invoice="in_1QeN5tB7WZ01zgkW8uIo0PqA", reason="subscription_cycle")
    ok(post_event(renewal))
    ok(post_event(renewal))  # Stripe delivers again: applied once

    second = Gift.objects.get(stripe_invoice_id="in_1QeN5tB7WZ01zgkW8uIo0PqA")
    assert second.pk != gift.pk
    assert second.recurring_gift_id == gift.recurring_gift_id
    assert (second.project, second.amount_minor, second.status) == (project, 2_500, Gift.Status.SUCCEEDED)
    # Named on the donor list as the donor asked for their first month.
    assert (second.donor_name, second.show_name_publicly) == ("Jane Donor", True)
    assert project_totals(project) == (5_000, 2, 1)


def test_an_invoice_before_the_checkout_event_loses_and_doubles_nothing(
    post_event, project, monthly_gift, session_completed, invoice_event
):
    gift = monthly_gift()

    ok(post_event(invoice_event(gift)))
    recurring = recurring_of(gift)
    assert recurring.status == RecurringGift.Status.ACTIVE
    assert recurring.stripe_subscription_id == SUBSCRIPTION
    assert recurring.donor.stripe_customer_id == "cus_RVd8kz1qPm3xYb"  # the portal works already
    assert project_totals(project) == (2_500, 1, 1)

    ok(post_event(session_completed(gift)))

    assert RecurringGift.objects.count() == 1
    assert Gift.objects.count() == 1
    assert recurring_of(gift).status == RecurringGift.Status.ACTIVE
    assert project_totals(project) == (2_500, 1, 1)


def test_an_invoice_whose_local_record_is_lost_is_rebuilt_from_the_subscription_metadata(
    post_event, project, general_fund, monthly_gift, invoice_event, session_completed
):
    gift = monthly_gift()
    invoice = invoice_event(gift)
    session = session_completed(gift)
    Gift.objects.filter(pk=gift.pk).update(recurring_gift=None)
    RecurringGift.objects.all().delete()
    Gift.objects.filter(pk=gift.pk).delete()

    ok(post_event(invoice))
    ok(post_event(session))

    recurring = RecurringGift.objects.get()
    assert (recurring.project, recurring.amount_minor, recurring.status) == (
        project,
        2_500,
        RecurringGift.Status.ACTIVE,
    )
    paid = Gift.objects.get()
    assert (paid.project, paid.amount_minor, paid.recurring_gift) == (project, 2_500, recurring)
    assert project_totals(project) == (2_500, 1, 1)


def test_invoices_of_other_tools_on_the_account_are_stored_and_ignored(
    post_event, project, monthly_gift, invoice_event
):
    gift = monthly_gift()
    foreign = invoice_event(gift, subscription="sub_shop", metadata={"plan": "newsletter"})

    ok(post_event(foreign))

    event = StripeEvent.objects.get()
    assert event.status == StripeEvent.Status.SKIPPED
    assert "marker" in event.note
    assert project_totals(project) == (0, 0, 0)
    assert recurring_of(gift).status == RecurringGift.Status.INCOMPLETE


def test_the_covered_fee_is_charged_but_only_the_gift_counts(
    post_event, project, monthly_gift, session_completed, invoice_event
):
    gift = monthly_gift(amount_minor=2_500, fee_covered_minor=87)
    recurring = recurring_of(gift)
    assert recurring.fee_covered_minor == 87

    ok(post_event(session_completed(gift)))
    ok(post_event(invoice_event(gift)))  # Stripe charged 2,587
    ok(post_event(invoice_event(gift, invoice="in_month_two", reason="subscription_cycle")))

    assert set(Gift.objects.values_list("amount_minor", "fee_covered_minor", "needs_review")) == {
        (2_500, 87, False)
    }
    assert project_totals(project) == (5_000, 2, 1)


# Refunds and disputes of a monthly payment find their gift through its payment intent


def test_a_refunded_monthly_payment_comes_off_the_total(
    post_event, project, monthly_gift, session_completed, invoice_event, invoice_payment_event, stripe_event
):
    gift = monthly_gift()
    ok(post_event(session_completed(gift)))
    ok(post_event(invoice_event(gift)))
    ok(post_event(invoice_payment_event()))
    gift.refresh_from_db()
    assert gift.stripe_payment_intent_id == "pi_3QcM4tB7WZ01zgkW0fE5gH7j"

    refund = stripe_event(
        "charge_refunded",
        payment_intent="pi_3QcM4tB7WZ01zgkW0fE5gH7j",
        metadata={},  # a subscription's charge carries none of the session's metadata
        amount=2_500,
        amount_captured=2_500,
        amount_refunded=2_500,
    )
    ok(post_event(refund))

    gift.refresh_from_db()
    assert gift.status == Gift.Status.REFUNDED
    assert project_totals(project) == (0, 0, 1)


def test_a_refund_arriving_before_the_invoice_waits_for_it(
    post_event, project, monthly_gift, invoice_event, invoice_payment_event, stripe_event
):
    gift = monthly_gift(fee_covered_minor=87)
    refund = stripe_event(
        "charge_refunded",
        payment_intent="pi_3QcM4tB7WZ01zgkW0fE5gH7j",
        metadata={},
        amount=2_587,
        amount_captured=2_587,
        amount_refunded=2_587,
    )
    ok(post_event(refund))
    ok(post_event(invoice_payment_event()))  # also before its invoice
    assert StripeEvent.objects.filter(status=StripeEvent.Status.UNMATCHED).count() == 2

    ok(post_event(invoice_event(gift)))

    gift.refresh_from_db()
    assert gift.stripe_payment_intent_id == "pi_3QcM4tB7WZ01zgkW0fE5gH7j"
    # The whole charge (gift and covered fee) was refunded: all of the gift comes off,
    # and the donor is told the whole $25.87 Stripe gave back.
    assert gift.status == Gift.Status.REFUNDED
    assert (money(gift).refunded_minor, money(gift).refunded_fee_minor, money(gift).net_minor) == (
        2_587,
        87,
        0,
    )
    assert not StripeEvent.objects.filter(status=StripeEvent.Status.UNMATCHED).exists()
    assert project_totals(project) == (0, 0, 1)


def test_a_partial_refund_of_a_fee_covered_charge_is_the_same_share_of_the_gift(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project, amount_minor=10_000, fee_covered_minor=257)
    paid = stripe_event("checkout_session_completed", gift=gift, amount_subtotal=10_257, amount_total=10_257)
    ok(post_event(paid))
    gift.refresh_from_db()
    assert (gift.amount_minor, gift.needs_review) == (10_000, False)

    ok(
        post_event(
            stripe_event(
                "charge_refunded", gift=gift, amount=10_257, amount_captured=10_257, amount_refunded=5_129
            )
        )
    )

    gift.refresh_from_db()
    # Half the charge is half the gift and half the covered fee; the donor gave the rest.
    figures = money(gift)
    assert (figures.refunded_minor, figures.refunded_fee_minor) == (5_129, 129)
    assert (figures.net_minor, figures.given_minor) == (5_000, 10_257 - 5_129)
    assert project_totals(project)[0] == 5_000


# Failed payments, cancellations and updates


def test_a_failed_payment_makes_the_gift_past_due_and_asks_for_a_new_card(
    post_event, project, monthly_gift, session_completed, invoice_event, django_capture_on_commit_callbacks
):
    gift = monthly_gift()
    ok(post_event(session_completed(gift)))
    ok(post_event(invoice_event(gift)))
    with (
        listening(signals.payment_failed, "recurring_gift") as sent,
        django_capture_on_commit_callbacks(execute=True),
    ):
        failed = invoice_event(
            gift, "invoice_payment_failed", invoice="in_failed", reason="subscription_cycle"
        )
        ok(post_event(failed))

    recurring = recurring_of(gift)
    assert recurring.status == RecurringGift.Status.PAST_DUE
    assert [r.pk for r in sent] == [recurring.pk]
    # Still a monthly donor, and the failed month adds nothing.
    assert project_totals(project) == (2_500, 1, 1)

    # Stripe's retry succeeds: active again, and the month counts.
    ok(post_event(invoice_event(gift, invoice="in_failed", reason="subscription_cycle")))
    assert recurring_of(gift).status == RecurringGift.Status.ACTIVE
    assert project_totals(project) == (5_000, 2, 1)


def test_a_cancellation_ends_the_monthly_gift_and_keeps_what_it_gave(
    post_event, project, monthly_gift, session_completed, invoice_event, subscription_event
):
    gift = monthly_gift()
    ok(post_event(session_completed(gift)))
    ok(post_event(invoice_event(gift)))

    ok(
        post_event(
            subscription_event(
                gift,
                "customer_subscription_deleted",
                created=2_000_000_000,
                cancellation_details={
                    "comment": "Moving abroad",
                    "feedback": "other",
                    "reason": "cancellation_requested",
                },
            )
        )
    )

    recurring = recurring_of(gift)
    assert recurring.status == RecurringGift.Status.CANCELLED
    assert recurring.cancelled_at is not None
    assert recurring.cancellation_reason == "Cancelled at the donor's request; feedback: other; Moving abroad"
    assert project_totals(project) == (2_500, 1, 0)


def test_cancelling_at_the_period_end_is_recorded_and_can_be_undone(
    post_event, monthly_gift, session_completed, subscription_event
):
    gift = monthly_gift()
    ok(post_event(session_completed(gift)))

    ok(
        post_event(
            subscription_event(
                gift,
                created=2_000_000_000,
                cancel_at_period_end=True,
                cancellation_details={
                    "comment": None,
                    "feedback": "too_expensive",
                    "reason": "cancellation_requested",
                },
            )
        )
    )
    recurring = recurring_of(gift)
    assert (recurring.status, recurring.cancel_at_period_end) == (RecurringGift.Status.ACTIVE, True)
    assert "too_expensive" in recurring.cancellation_reason

    ok(post_event(subscription_event(gift, created=2_000_000_100, cancel_at_period_end=False)))
    recurring = recurring_of(gift)
    assert (recurring.cancel_at_period_end, recurring.cancellation_reason) == (False, "")


def test_subscription_updates_out_of_order_never_overwrite_newer_state(
    post_event, project, monthly_gift, session_completed, subscription_event
):
    gift = monthly_gift()
    ok(post_event(session_completed(gift)))

    newer = subscription_event(gift, created=2_000_000_200, status="past_due")
    older = subscription_event(gift, created=2_000_000_100, status="active", cancel_at_period_end=True)
    ok(post_event(newer))
    ok(post_event(older))

    recurring = recurring_of(gift)
    assert (recurring.status, recurring.cancel_at_period_end) == (RecurringGift.Status.PAST_DUE, False)
    assert recurring.state_as_of == 2_000_000_200

    # An update sent before the cancellation but delivered after it does not revive the gift.
    ok(post_event(subscription_event(gift, "customer_subscription_deleted", created=2_000_000_300)))
    ok(post_event(subscription_event(gift, created=2_000_000_250, status="active")))
    assert recurring_of(gift).status == RecurringGift.Status.CANCELLED
    assert project_totals(project)[2] == 0


def test_a_failure_older_than_a_payment_leaves_the_gift_active(
    post_event, monthly_gift, session_completed, invoice_event
):
    gift = monthly_gift()
    ok(post_event(session_completed(gift)))
    ok(post_event(invoice_event(gift, created=2_000_000_200)))

    ok(post_event(invoice_event(gift, "invoice_payment_failed", invoice="in_old", created=2_000_000_100)))

    assert recurring_of(gift).status == RecurringGift.Status.ACTIVE


def test_subscriptions_of_other_tools_are_stored_and_ignored(
    post_event, project, subscription_event, monthly_gift
):
    gift = monthly_gift()
    foreign = subscription_event(gift, created=2_000_000_000, subscription="sub_other_tool", metadata={})

    ok(post_event(foreign))

    assert StripeEvent.objects.get().status == StripeEvent.Status.SKIPPED
    assert recurring_of(gift).status == RecurringGift.Status.INCOMPLETE


# Receipts: signals sent once the money is committed


def test_gift_paid_is_sent_once_per_paid_month_and_gift_refunded_on_a_refund(
    post_event,
    monthly_gift,
    session_completed,
    invoice_event,
    invoice_payment_event,
    stripe_event,
    django_capture_on_commit_callbacks,
):
    gift = monthly_gift()
    with (
        listening(signals.gift_paid, "gift") as paid,
        listening(signals.gift_refunded, "gift") as refunded,
        django_capture_on_commit_callbacks(execute=True),
    ):
        ok(post_event(session_completed(gift)))
        ok(post_event(invoice_event(gift)))
        ok(post_event(invoice_event(gift)))  # redelivered
        ok(post_event(invoice_payment_event()))
        ok(post_event(invoice_event(gift, invoice="in_month_two", reason="subscription_cycle")))
        ok(
            post_event(
                stripe_event(
                    "charge_refunded",
                    payment_intent="pi_3QcM4tB7WZ01zgkW0fE5gH7j",
                    metadata={},
                    amount=2_500,
                    amount_captured=2_500,
                    amount_refunded=1_000,
                )
            )
        )

    assert [g.stripe_invoice_id for g in paid] == ["in_1QcM4sB7WZ01zgkW3kLm9NbV", "in_month_two"]
    assert [g.pk for g in refunded] == [gift.pk]


def test_a_monthly_payment_is_announced_while_its_transaction_is_still_open(
    post_event, monthly_gift, invoice_event, django_capture_on_commit_callbacks
):
    # So that what a listener stores (the receipt) commits with the payment, or not at all.
    gift = monthly_gift()
    with listening(signals.gift_paid, "gift") as paid:
        with django_capture_on_commit_callbacks() as callbacks:
            ok(post_event(invoice_event(gift)))
            assert [g.pk for g in paid] == [gift.pk]
        for callback in callbacks:
            callback()

    assert [g.pk for g in paid] == [gift.pk]  # and once only


def test_a_donor_record_is_made_from_the_email_stripe_collected(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project, donor_email="")

    ok(post_event(stripe_event("checkout_session_completed", gift=gift)))

    gift.refresh_from_db()
    assert gift.donor == Donor.objects.get(email="jane.donor@example.com")


# The Checkout Session Stripe is asked for


def checkout_request(rf):
    return rf.post("/donate/")


def test_a_monthly_gift_asks_stripe_for_a_subscription_mode_session(
    rf, project, make_gift, stripe_stub, checkout_session
):
    from donations import services

    session = checkout_session()
    stripe_stub.respond(session)
    gift = make_gift(
        project,
        status=Gift.Status.PENDING,
        amount_minor=2_500,
        fee_covered_minor=87,
        donor_email="jane@example.com",
    )
    recurring = RecurringGift.begin(gift)

    url = services.start_checkout(checkout_request(rf), gift)

    assert url == session["url"]
    (request,) = stripe_stub.requests
    assert (request["method"], request["path"]) == ("POST", "/v1/checkout/sessions")
    metadata = {
        "podari_site": "podari-life",
        "gift_public_id": str(gift.public_id),
        "project_id": str(project.pk),
        "project_slug": "car-t",
        "fee_covered_minor": "87",
        "recurring_gift_public_id": str(recurring.public_id),
        "amount_minor": "2500",
        "currency": "usd",
    }
    assert request["params"] == {
        "mode": "subscription",
        "submit_type": "donate",
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "2500",
        "line_items[0][price_data][product_data][name]": "Monthly gift: CAR-T therapy for children",
        "line_items[0][price_data][product_data][description]": (
            f"$25 per month until you stop it. {project.summary}"
        ),
        "line_items[0][price_data][recurring][interval]": "month",
        "line_items[1][quantity]": "1",
        "line_items[1][price_data][currency]": "usd",
        "line_items[1][price_data][unit_amount]": "87",
        "line_items[1][price_data][product_data][name]": "Covering the card fee, per month",
        "line_items[1][price_data][product_data][description]": (
            "$0.87 per month, so that all of your $25 per month reaches the project."
        ),
        "line_items[1][price_data][recurring][interval]": "month",
        "client_reference_id": str(gift.public_id),
        **{f"metadata[{key}]": value for key, value in metadata.items()},
        "subscription_data[description]": "Monthly gift to CAR-T therapy for children",
        **{f"subscription_data[metadata][{key}]": value for key, value in metadata.items()},
        "customer_email": "jane@example.com",
        "success_url": "http://testserver/donate/thanks/?session_id={CHECKOUT_SESSION_ID}",
        "cancel_url": f"http://testserver/donate/?resume={gift.public_id}",
    }
    # No payment_intent_data: Stripe refuses it in subscription mode.
    assert request["headers"]["Idempotency-Key"] == f"checkout-{gift.public_id}"
    assert RecurringGift.objects.get().stripe_checkout_session_id == session["id"]


def test_a_one_time_gift_with_the_fee_covered_is_charged_as_two_lines(
    rf, project, make_gift, stripe_stub, checkout_session
):
    from donations import services

    stripe_stub.respond(checkout_session())
    gift = make_gift(project, status=Gift.Status.PENDING, amount_minor=10_000, fee_covered_minor=256)

    services.start_checkout(checkout_request(rf), gift)

    params = stripe_stub.requests[0]["params"]
    assert params["mode"] == "payment"
    assert (
        params["line_items[0][price_data][unit_amount]"],
        params["line_items[1][price_data][unit_amount]"],
    ) == (
        "10000",
        "256",
    )
    assert "line_items[0][price_data][recurring][interval]" not in params
    assert params["metadata[fee_covered_minor]"] == "256"
    assert params["payment_intent_data[metadata][fee_covered_minor]"] == "256"


def test_a_subscription_update_before_the_checkout_event_ties_the_record_to_its_subscription(
    post_event, project, monthly_gift, subscription_event, invoice_event
):
    gift = monthly_gift()

    ok(post_event(subscription_event(gift, created=2_000_000_000, status="active")))

    recurring = recurring_of(gift)
    assert (recurring.status, recurring.stripe_subscription_id) == (RecurringGift.Status.ACTIVE, SUBSCRIPTION)
    assert recurring.started_at is not None
    ok(post_event(invoice_event(gift)))
    assert RecurringGift.objects.count() == 1
    assert project_totals(project) == (2_500, 1, 1)
