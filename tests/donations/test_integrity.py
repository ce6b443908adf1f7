"""Only donations count, and every total stays true.

The charity's Stripe account also sells event tickets, runs other tools' subscriptions
and takes Payment Links. These tests post signed events the way Stripe sends them and
check that only what this site started changes a gift or a total.
"""

import logging

import pytest
from django.utils import timezone

from donations.models import Gift, Project, StripeEvent
from tests.conftest import money

pytestmark = pytest.mark.django_db

MARKER = {"podari_site": "podari-life"}


def totals(project):
    project = Project.objects.get(pk=project.pk)
    return project.raised_minor, project.gift_count


def recounted(project):
    Project.objects.filter(pk=project.pk).recount_totals()
    return totals(project)


def only_event():
    return StripeEvent.objects.get()


@pytest.fixture
def paid_gift(project, make_gift):
    """A $50 gift paid through this site's checkout."""
    return make_gift(
        project,
        amount_minor=5_000,
        stripe_checkout_session_id="cs_test_paid",
        stripe_payment_intent_id="pi_3QbXy2B7WZ01zgkW1aB2cD3e",
        paid_at=timezone.now(),
    )


# Sessions this site did not start


def test_a_payment_link_sale_is_stored_and_ignored(post_event, general_fund, project, stripe_event):
    # A T-shirt sold through a Payment Link on the same account.
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_tshirt",
        payment_link="plink_1QtShirtB7WZ01zgkW",
        client_reference_id=None,
        metadata={"sku": "tshirt-m"},
    )

    assert post_event(event).status_code == 200

    assert not Gift.objects.exists()
    assert totals(general_fund) == (0, 0)
    assert only_event().status == StripeEvent.Status.SKIPPED


def test_a_setup_mode_session_with_no_currency_is_stored_and_ignored(post_event, general_fund, stripe_event):
    # Saving a card for later: no amount, no currency. It used to fail on every retry.
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_setup",
        mode="setup",
        currency=None,
        amount_total=None,
        amount_subtotal=None,
        payment_intent=None,
        payment_status="no_payment_required",
        setup_intent="seti_1QsetupB7WZ01zgkW",
        metadata=MARKER,
    )

    assert post_event(event).status_code == 200

    assert not Gift.objects.exists()
    assert only_event().status == StripeEvent.Status.SKIPPED


def test_another_tools_subscription_session_is_stored_and_ignored(post_event, general_fund, stripe_event):
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_newsletter_plan",
        mode="subscription",
        subscription="sub_1QnewsB7WZ01zgkW",
        payment_intent=None,
        client_reference_id=None,
        metadata={"plan": "newsletter-pro"},
    )

    assert post_event(event).status_code == 200

    assert not Gift.objects.exists()
    assert totals(general_fund) == (0, 0)
    assert only_event().status == StripeEvent.Status.SKIPPED


def test_a_strangers_session_naming_a_gifts_number_leaves_that_gift_alone(
    post_event, general_fund, project, make_pending_gift, stripe_event
):
    # Another integration's client_reference_id and metadata happen to equal our gift's id.
    gift = make_pending_gift(project)
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_other_integration",
        client_reference_id=str(gift.pk),
        metadata={"gift_id": str(gift.pk), "project_id": str(project.pk)},
    )

    assert post_event(event).status_code == 200

    gift.refresh_from_db()
    assert gift.status == Gift.Status.PENDING
    assert Gift.objects.count() == 1
    assert totals(project) == (0, 0)
    assert only_event().status == StripeEvent.Status.SKIPPED


def test_a_session_with_the_marker_and_a_gifts_public_id_settles_that_gift(
    post_event, project, make_pending_gift, stripe_event
):
    # The session id was never stored (Stripe answered after a timeout): the marker and
    # the gift's public id still find it.
    gift = make_pending_gift(project, stripe_checkout_session_id=None)
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_found_by_public_id",
        metadata={**MARKER, "gift_public_id": str(gift.public_id)},
        amount_total=5_000,
    )

    post_event(event)

    gift.refresh_from_db()
    assert (gift.status, gift.stripe_checkout_session_id) == (
        Gift.Status.SUCCEEDED,
        "cs_test_found_by_public_id",
    )
    assert totals(project) == (5_000, 1)


# Payment Links staff opted in for giving


def test_a_payment_link_named_in_settings_gives_to_its_project(
    settings, post_event, general_fund, project, stripe_event
):
    settings.DONATION_PAYMENT_LINKS = {"plink_1GalaQrB7WZ01zgkW": "car-t"}
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_gala_qr",
        payment_link="plink_1GalaQrB7WZ01zgkW",
        client_reference_id=None,
        metadata={},
        amount_total=10_000,
    )

    assert post_event(event).status_code == 200

    gift = Gift.objects.get()
    assert (gift.project, gift.status, gift.amount_minor) == (project, Gift.Status.SUCCEEDED, 10_000)
    assert gift.needs_review is False
    assert totals(project) == (10_000, 1)


def test_a_payment_link_with_the_project_in_its_metadata_gives_to_it(
    post_event, general_fund, project, stripe_event
):
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_event_link",
        payment_link="plink_1EventB7WZ01zgkW",
        client_reference_id=None,
        metadata={"podari_project": "car-t"},
    )

    post_event(event)

    assert Gift.objects.get().project == project
    assert totals(project) == (5_000, 1)


def test_a_payment_link_set_to_an_empty_project_gives_to_the_general_fund(
    settings, post_event, general_fund, project, stripe_event
):
    settings.DONATION_PAYMENT_LINKS = {"plink_1AnyB7WZ01zgkW": ""}
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_any",
        payment_link="plink_1AnyB7WZ01zgkW",
        client_reference_id=None,
        metadata={},
    )

    post_event(event)

    assert Gift.objects.get().project == general_fund


# Live and test mode


def test_a_test_mode_event_on_a_live_site_is_stored_not_applied_and_logged(
    settings, post_event, project, make_pending_gift, stripe_event, caplog
):
    settings.STRIPE_LIVEMODE = True
    gift = make_pending_gift(project)
    event = stripe_event("checkout_session_completed", gift=gift)
    assert event["livemode"] is False

    with caplog.at_level(logging.ERROR, logger="donations.webhooks"):
        assert post_event(event).status_code == 200

    gift.refresh_from_db()
    assert gift.status == Gift.Status.PENDING
    assert only_event().status == StripeEvent.Status.SKIPPED
    assert "test event" in only_event().note
    assert any("live" in record.getMessage() for record in caplog.records)


def test_a_live_event_on_a_test_site_is_not_applied(post_event, project, make_pending_gift, stripe_event):
    gift = make_pending_gift(project)
    event = stripe_event("checkout_session_completed", gift=gift)
    event["livemode"] = True
    event["data"]["object"]["livemode"] = True

    post_event(event)

    gift.refresh_from_db()
    assert gift.status == Gift.Status.PENDING
    assert totals(project) == (0, 0)


def test_test_gifts_never_count_on_a_live_site(settings, project, make_gift):
    settings.STRIPE_LIVEMODE = True
    make_gift(project, amount_minor=5_000, livemode=True)
    make_gift(project, amount_minor=9_900, livemode=False)  # from the days of the test key

    assert totals(project) == (5_000, 1)
    assert recounted(project) == (5_000, 1)


# Money in another currency (Adaptive Pricing)


@pytest.fixture
def euro_paid_gift(post_event, project, make_pending_gift, stripe_event):
    """$50 asked, paid as €46.37 by a donor shown euros."""
    gift = make_pending_gift(project, amount_minor=5_000)
    post_event(
        stripe_event(
            "checkout_session_completed",
            gift=gift,
            currency="eur",
            amount_subtotal=4_637,
            amount_total=4_637,
            currency_conversion={
                "amount_subtotal": 5_000,
                "amount_total": 5_000,
                "fx_rate": "1.07828",
                "source_currency": "usd",
            },
        )
    )
    gift.refresh_from_db()
    assert totals(project) == (5_000, 1)
    return gift


def test_a_full_refund_in_the_donors_currency_takes_the_whole_gift_out(
    post_event, project, euro_paid_gift, stripe_event
):
    event = stripe_event(
        "charge_refunded",
        gift=euro_paid_gift,
        currency="eur",
        amount=4_637,
        amount_captured=4_637,
        amount_refunded=4_637,
        refunded=True,
    )

    post_event(event)

    euro_paid_gift.refresh_from_db()
    assert (euro_paid_gift.status, money(euro_paid_gift).refunded_minor) == (Gift.Status.REFUNDED, 5_000)
    # Not $50 - 4,637 cents = $3.63 left counted, as when currencies were mixed up.
    assert totals(project) == (0, 0)


def test_a_partial_refund_in_the_donors_currency_is_converted_with_stripes_amounts(
    post_event, project, euro_paid_gift, stripe_event
):
    event = stripe_event(
        "charge_refunded",
        gift=euro_paid_gift,
        currency="eur",
        amount=4_637,
        amount_captured=4_637,
        amount_refunded=2_000,
    )

    post_event(event)

    euro_paid_gift.refresh_from_db()
    # €20.00 of €46.37 is the same share of $50.00: $21.57 (rounded half up, in whole cents).
    assert money(euro_paid_gift).refunded_minor == 2_157
    assert totals(project) == (2_843, 1)
    assert totals(project) == recounted(project)


def test_a_refund_in_a_currency_stripe_gave_no_amounts_for_is_flagged_not_subtracted(
    post_event, project, paid_gift, stripe_event
):
    event = stripe_event("charge_refund_updated", gift=paid_gift, id="re_gbp", currency="gbp", amount=1_000)
    post_event(event)

    paid_gift.refresh_from_db()
    assert paid_gift.needs_review is True
    assert totals(project) == (5_000, 1)


# Disputes


def dispute_event(stripe_event, name, gift, *, created, **fields):
    event = stripe_event(name, gift=gift, charge="ch_3QbXy2B7WZ01zgkW1FgH4iJk", **fields)
    event["created"] = created
    return event


def test_a_dispute_takes_the_money_out_and_flags_the_gift(post_event, project, paid_gift, stripe_event):
    post_event(dispute_event(stripe_event, "charge_dispute_created", paid_gift, created=100))

    paid_gift.refresh_from_db()
    assert (paid_gift.dispute_status, money(paid_gift).held_minor) == ("open", 5_000)
    assert paid_gift.needs_review is True
    assert totals(project) == (0, 0)
    assert totals(project) == recounted(project)


def test_a_won_dispute_puts_the_money_back(post_event, project, paid_gift, stripe_event):
    post_event(dispute_event(stripe_event, "charge_dispute_created", paid_gift, created=100))
    post_event(dispute_event(stripe_event, "charge_dispute_closed", paid_gift, created=200, status="won"))

    paid_gift.refresh_from_db()
    assert (paid_gift.dispute_status, money(paid_gift).held_minor) == ("won", 0)
    assert totals(project) == (5_000, 1)


def test_a_lost_dispute_keeps_the_money_out(post_event, project, paid_gift, stripe_event):
    post_event(dispute_event(stripe_event, "charge_dispute_created", paid_gift, created=100))
    post_event(dispute_event(stripe_event, "charge_dispute_closed", paid_gift, created=200, status="lost"))

    paid_gift.refresh_from_db()
    assert paid_gift.dispute_status == "lost"
    assert totals(project) == (0, 0)
    assert totals(project) == recounted(project)


def test_a_won_dispute_arriving_before_its_opening_ends_won(post_event, project, paid_gift, stripe_event):
    post_event(dispute_event(stripe_event, "charge_dispute_closed", paid_gift, created=200, status="won"))
    post_event(dispute_event(stripe_event, "charge_dispute_created", paid_gift, created=100))

    paid_gift.refresh_from_db()
    assert paid_gift.dispute_status == "won"
    assert totals(project) == (5_000, 1)


def test_a_partial_dispute_holds_back_only_its_amount(post_event, project, paid_gift, stripe_event):
    post_event(dispute_event(stripe_event, "charge_dispute_created", paid_gift, created=100, amount=1_500))

    assert totals(project) == (3_500, 1)


def test_a_dispute_of_someone_elses_charge_changes_nothing(post_event, general_fund, paid_gift, stripe_event):
    event = stripe_event(
        "charge_dispute_created", charge="ch_not_ours", payment_intent="pi_not_ours", metadata={}
    )

    assert post_event(event).status_code == 200

    paid_gift.refresh_from_db()
    assert paid_gift.dispute_status == ""
    assert only_event().status == StripeEvent.Status.UNMATCHED


# Refunds that fail, and refunds that come before their payment


def test_a_failed_refund_gives_the_money_back_to_the_total(post_event, project, paid_gift, stripe_event):
    refunded = stripe_event("charge_refunded", gift=paid_gift, amount_refunded=2_000)
    refunded["created"] = 100
    post_event(refunded)
    assert totals(project) == (3_000, 1)

    failed = stripe_event("charge_refund_updated", gift=paid_gift, amount=2_000, status="failed")
    failed["created"] = 200
    post_event(failed)

    paid_gift.refresh_from_db()
    assert (paid_gift.status, money(paid_gift).refunded_minor) == (Gift.Status.SUCCEEDED, 0)
    assert totals(project) == (5_000, 1)

    # Stripe delivers the old charge.refunded again: it is older than the failure.
    refunded["id"] = "evt_redelivered_copy"
    post_event(refunded)
    assert totals(project) == (5_000, 1)

    # The same failure delivered twice gives the money back once.
    failed["id"] = "evt_failure_copy"
    post_event(failed)
    assert totals(project) == (5_000, 1)


def test_a_failure_arriving_before_its_refund_still_ends_unrefunded(
    post_event, project, paid_gift, stripe_event
):
    failed = stripe_event("charge_refund_updated", gift=paid_gift, amount=2_000, status="failed")
    failed["created"] = 200
    refunded = stripe_event("charge_refunded", gift=paid_gift, amount_refunded=2_000)
    refunded["created"] = 100

    post_event(failed)
    post_event(refunded)

    assert totals(project) == (5_000, 1)


def test_a_refund_update_that_is_not_a_failure_changes_nothing(post_event, project, paid_gift, stripe_event):
    post_event(stripe_event("charge_refund_updated", gift=paid_gift, amount=2_000, status="succeeded"))

    assert totals(project) == (5_000, 1)


def test_a_refund_arriving_before_its_payment_waits_and_then_applies(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project, amount_minor=5_000)
    refund = stripe_event(
        "charge_refunded", payment_intent="pi_3QbXlater", metadata={}, amount=5_000, amount_refunded=2_000
    )
    post_event(refund)
    assert StripeEvent.objects.get(stripe_id=refund["id"]).status == StripeEvent.Status.UNMATCHED
    assert totals(project) == (0, 0)

    post_event(stripe_event("checkout_session_completed", gift=gift, payment_intent="pi_3QbXlater"))

    gift.refresh_from_db()
    assert (gift.status, money(gift).refunded_minor) == (Gift.Status.PARTIALLY_REFUNDED, 2_000)
    assert totals(project) == (3_000, 1)
    assert StripeEvent.objects.get(stripe_id=refund["id"]).status == StripeEvent.Status.PROCESSED


# Signed, but absurd


def test_a_signed_body_nested_absurdly_deep_is_refused_with_400(post_event):
    payload = (
        '{"id": "evt_deep", "type": "charge.refunded", "data": {"object": '
        + "[" * 100_000
        + "]" * 100_000
        + "}}"
    )

    response = post_event(payload)

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_a_signed_body_with_nan_is_refused_with_400(post_event, stripe_event):
    payload = (
        '{"id": "evt_nan", "type": "charge.refunded", "livemode": false, '
        '"data": {"object": {"id": "ch_1", "object": "charge", "amount": NaN}}}'
    )

    response = post_event(payload)

    assert response.status_code == 400
    assert not StripeEvent.objects.exists()


def test_the_readme_lists_exactly_the_events_the_code_handles():
    from pathlib import Path

    from donations.webhooks import HANDLERS

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    section = readme.split("<!-- webhook-events -->")[1].split("<!-- /webhook-events -->")[0]
    listed = {line.strip()[3:-1] for line in section.splitlines() if line.strip().startswith("- `")}

    assert listed == set(HANDLERS)
