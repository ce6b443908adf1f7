"""Stripe's webhook: only signed events get in, each applies once, and gifts end up right in any order."""

import json
import time

import pytest
from django.db import DatabaseError
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift, Project, StripeEvent
from tests.conftest import money, sign

pytestmark = pytest.mark.django_db

WEBHOOK_URL = reverse("donations:stripe_webhook")


def totals(project):
    project = Project.objects.get(pk=project.pk)
    return project.raised_minor, project.gift_count


# What this site's own Checkout Sessions carry in their metadata.
MARKER = {"podari_site": "podari-life"}


# Refused deliveries: 400, and nothing stored or changed


@pytest.fixture
def completion(project, make_pending_gift, stripe_event):
    gift = make_pending_gift(project)
    return gift, stripe_event("checkout_session_completed", gift=gift)


def assert_refused(response, gift):
    assert response.status_code == 400
    assert not StripeEvent.objects.exists()
    gift.refresh_from_db()
    assert gift.status == Gift.Status.PENDING


def test_a_delivery_without_a_signature_is_refused(client, completion):
    gift, event = completion

    response = client.post(WEBHOOK_URL, data=json.dumps(event), content_type="application/json")

    assert_refused(response, gift)


def test_a_delivery_signed_with_another_secret_is_refused(post_event, completion):
    gift, event = completion

    assert_refused(post_event(event, secret="whsec_someone_else"), gift)


def test_a_stale_delivery_is_refused(post_event, completion):
    gift, event = completion

    assert_refused(post_event(event, timestamp=int(time.time()) - 301), gift)


def test_a_delivery_a_few_minutes_old_is_accepted(post_event, completion):
    gift, event = completion

    assert post_event(event, timestamp=int(time.time()) - 240).status_code == 200
    gift.refresh_from_db()
    assert gift.status == Gift.Status.SUCCEEDED


def test_a_tampered_body_is_refused(post_event, completion):
    gift, event = completion
    signature = sign(json.dumps(event))
    event["data"]["object"]["amount_total"] = 1

    assert_refused(post_event(event, signature=signature), gift)


@pytest.mark.parametrize("header", ["", "garbage", "t=notanumber,v1=abc", "v1=abc", "t=123"])
def test_a_malformed_signature_is_refused(post_event, completion, header):
    gift, event = completion

    assert_refused(post_event(event, signature=header), gift)


def test_a_body_that_is_not_utf8_is_refused(client, completion):
    gift, _ = completion
    body = b'{"id": "evt_\xff\xfe", "type": "checkout.session.completed"}'

    response = client.post(
        WEBHOOK_URL,
        data=body,
        content_type="application/json",
        headers={"Stripe-Signature": sign(body.decode("latin-1"))},
    )

    assert_refused(response, gift)


@pytest.mark.parametrize(
    "payload",
    [
        "this is not json",
        "[]",
        '"evt_123"',
        "{}",
        '{"object": "event", "type": "checkout.session.completed", "data": {"object": {}}}',
        '{"id": 42, "type": "checkout.session.completed", "data": {"object": {}}}',
        '{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": "cs_test_1"}}',
        '{"id": "evt_1", "type": "checkout.session.completed", "data": null}',
    ],
)
def test_a_signed_body_that_is_not_an_event_is_refused(post_event, completion, payload):
    gift, _ = completion

    assert_refused(post_event(payload), gift)


def test_the_webhook_only_takes_posts(client):
    assert client.get(WEBHOOK_URL).status_code == 405


# Checkout sessions


def test_a_paid_checkout_settles_the_gift(post_event, project, make_pending_gift, stripe_event):
    gift = make_pending_gift(project, amount_minor=5_000)
    event = stripe_event("checkout_session_completed", gift=gift, payment_intent="pi_3QbXpaid0001")

    response = post_event(event)

    assert response.status_code == 200
    gift.refresh_from_db()
    assert gift.status == Gift.Status.SUCCEEDED
    assert (gift.amount_minor, gift.currency) == (5_000, "usd")
    assert (gift.donor_name, gift.donor_email) == ("Jane Donor", "jane.donor@example.com")
    assert gift.stripe_payment_intent_id == "pi_3QbXpaid0001"
    assert gift.paid_at is not None and gift.paid_at <= timezone.now()
    assert gift.needs_review is False
    assert totals(project) == (5_000, 1)
    stored = StripeEvent.objects.get()
    assert (stored.stripe_id, stored.type, stored.status) == (
        event["id"],
        "checkout.session.completed",
        StripeEvent.Status.PROCESSED,
    )
    assert stored.api_version == "2026-10-28.endive"
    assert stored.payload == event


def test_the_donor_details_from_the_form_are_kept(post_event, project, make_pending_gift, stripe_event):
    gift = make_pending_gift(project, donor_name="J. D.", donor_email="jd@example.org")

    post_event(stripe_event("checkout_session_completed", gift=gift))

    gift.refresh_from_db()
    assert (gift.donor_name, gift.donor_email) == ("J. D.", "jd@example.org")


def test_stripes_amount_wins_and_the_difference_is_flagged(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project, amount_minor=5_000)
    event = stripe_event("checkout_session_completed", gift=gift, amount_subtotal=7_500, amount_total=7_500)

    post_event(event)

    gift.refresh_from_db()
    assert (gift.status, gift.amount_minor) == (Gift.Status.SUCCEEDED, 7_500)
    assert gift.needs_review is True
    assert "7500 usd" in gift.review_reason
    assert totals(project) == (7_500, 1)


def test_an_unpaid_completion_leaves_the_gift_pending(post_event, project, make_pending_gift, stripe_event):
    gift = make_pending_gift(project)

    response = post_event(stripe_event("checkout_session_completed_unpaid", gift=gift))

    assert response.status_code == 200
    gift.refresh_from_db()
    assert gift.status == Gift.Status.PENDING
    assert gift.paid_at is None
    assert gift.stripe_payment_intent_id == "pi_3QbXy2B7WZ01zgkW1aB2cD3e"
    assert totals(project) == (0, 0)


def test_a_bank_payment_that_clears_later_settles_the_gift(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project)
    post_event(stripe_event("checkout_session_completed_unpaid", gift=gift))

    post_event(stripe_event("checkout_session_async_payment_succeeded", gift=gift))

    gift.refresh_from_db()
    assert gift.status == Gift.Status.SUCCEEDED
    assert gift.paid_at is not None
    assert totals(project) == (5_000, 1)


def test_a_bank_payment_that_fails_marks_the_gift_failed(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project)
    post_event(stripe_event("checkout_session_completed_unpaid", gift=gift))

    post_event(stripe_event("checkout_session_async_payment_failed", gift=gift))

    gift.refresh_from_db()
    assert gift.status == Gift.Status.FAILED
    assert totals(project) == (0, 0)


def test_an_expired_checkout_marks_the_gift_abandoned(post_event, project, make_pending_gift, stripe_event):
    gift = make_pending_gift(project)

    assert post_event(stripe_event("checkout_session_expired", gift=gift)).status_code == 200

    gift.refresh_from_db()
    assert gift.status == Gift.Status.ABANDONED


def test_an_expiry_arriving_after_payment_changes_nothing(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project)
    post_event(stripe_event("checkout_session_completed", gift=gift))

    assert post_event(stripe_event("checkout_session_expired", gift=gift)).status_code == 200

    gift.refresh_from_db()
    assert gift.status == Gift.Status.SUCCEEDED
    assert totals(project) == (5_000, 1)


def test_a_failure_arriving_after_payment_changes_nothing(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project)
    post_event(stripe_event("checkout_session_async_payment_succeeded", gift=gift))

    post_event(stripe_event("checkout_session_async_payment_failed", gift=gift))

    gift.refresh_from_db()
    assert gift.status == Gift.Status.SUCCEEDED


def test_a_gift_stripe_could_not_confirm_in_time_is_still_settled(
    post_event, project, make_pending_gift, stripe_event
):
    # The create call timed out on our side but Stripe made the session: the gift is
    # not_started with no session id, and Stripe's event finds it by its metadata.
    gift = make_pending_gift(project, status=Gift.Status.NOT_STARTED, stripe_checkout_session_id=None)
    event = stripe_event("checkout_session_completed", gift=gift, id="cs_test_made_after_a_timeout")

    post_event(event)

    gift.refresh_from_db()
    assert gift.status == Gift.Status.SUCCEEDED
    assert gift.stripe_checkout_session_id == "cs_test_made_after_a_timeout"
    assert Gift.objects.count() == 1


def test_an_expiry_for_a_session_we_never_saw_is_stored_and_ignored(post_event, general_fund, stripe_event):
    event = stripe_event("checkout_session_expired", id="cs_test_never_seen", metadata=MARKER)

    assert post_event(event).status_code == 200

    assert not Gift.objects.exists()
    assert StripeEvent.objects.get().status == StripeEvent.Status.PROCESSED


# Adaptive Pricing: the donor paid in their currency, the gift is in ours


def test_a_gift_paid_in_another_currency_is_recorded_in_ours(
    post_event, project, make_pending_gift, stripe_event
):
    # Since API 2025-03-31 the session keeps our currency; the donor's is in presentment_details.
    gift = make_pending_gift(project, amount_minor=5_000)
    event = stripe_event(
        "checkout_session_completed",
        gift=gift,
        presentment_details={"presentment_amount": 4_637, "presentment_currency": "eur"},
    )

    post_event(event)

    gift.refresh_from_db()
    assert (gift.status, gift.amount_minor, gift.currency) == (Gift.Status.SUCCEEDED, 5_000, "usd")
    assert gift.needs_review is False
    assert totals(project) == (5_000, 1)


def test_an_older_session_converted_to_the_donors_currency_is_recorded_in_ours(
    post_event, project, make_pending_gift, stripe_event
):
    # Sessions created before 2025-03-31 carried the donor's currency, and ours in currency_conversion.
    gift = make_pending_gift(project, amount_minor=5_000)
    event = stripe_event(
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

    post_event(event)

    gift.refresh_from_db()
    assert (gift.status, gift.amount_minor, gift.currency) == (Gift.Status.SUCCEEDED, 5_000, "usd")
    assert gift.needs_review is False
    assert totals(project) == (5_000, 1)


# Duplicates, and payments with no gift on this site


def test_a_payment_this_site_started_with_no_gift_here_is_recorded_for_its_project(
    post_event, general_fund, project, stripe_event
):
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_payment_link_1",
        client_reference_id=None,
        metadata={**MARKER, "project_id": str(project.pk)},
        amount_subtotal=2_500,
        amount_total=2_500,
    )

    assert post_event(event).status_code == 200

    gift = Gift.objects.get()
    assert (gift.project, gift.status, gift.amount_minor) == (project, Gift.Status.SUCCEEDED, 2_500)
    assert gift.stripe_checkout_session_id == "cs_test_payment_link_1"
    assert gift.donor_email == "jane.donor@example.com"
    assert gift.needs_review is True
    assert "cs_test_payment_link_1" in gift.review_reason
    assert totals(project) == (2_500, 1)


def test_a_payment_with_no_project_goes_to_the_general_fund(post_event, general_fund, project, stripe_event):
    event = stripe_event(
        "checkout_session_completed", id="cs_test_payment_link_2", client_reference_id=None, metadata=MARKER
    )

    post_event(event)

    gift = Gift.objects.get()
    assert (gift.project, gift.status, gift.needs_review) == (general_fund, Gift.Status.SUCCEEDED, True)
    assert totals(general_fund) == (5_000, 1)
    assert totals(project) == (0, 0)


def test_a_gift_id_belonging_to_another_session_is_not_reused(
    post_event, general_fund, project, make_pending_gift, stripe_event
):
    other = make_pending_gift(project)
    event = stripe_event(
        "checkout_session_completed",
        id="cs_test_someone_else",
        client_reference_id=str(other.pk),
        metadata={**MARKER, "gift_public_id": str(other.public_id), "project_id": str(project.pk)},
    )

    post_event(event)

    other.refresh_from_db()
    assert other.status == Gift.Status.PENDING
    new = Gift.objects.get(stripe_checkout_session_id="cs_test_someone_else")
    assert new.pk != other.pk and new.needs_review is True


def test_a_duplicate_delivery_is_applied_once(post_event, general_fund, stripe_event):
    event = stripe_event(
        "checkout_session_completed", id="cs_test_twice", client_reference_id=None, metadata=MARKER
    )

    first, second = post_event(event), post_event(event)

    assert (first.status_code, second.status_code) == (200, 200)
    assert Gift.objects.count() == 1
    stored = StripeEvent.objects.get()
    assert (stored.status, stored.attempts) == (StripeEvent.Status.PROCESSED, 1)
    assert totals(general_fund) == (5_000, 1)


def test_an_unknown_event_type_is_stored_and_ignored(post_event, stripe_event):
    event = stripe_event("checkout_session_completed")
    event["type"] = "customer.created"
    event["data"]["object"] = {"id": "cus_QbXy", "object": "customer", "email": "x@example.com"}

    assert post_event(event).status_code == 200

    stored = StripeEvent.objects.get()
    assert (stored.type, stored.status) == ("customer.created", StripeEvent.Status.IGNORED)
    assert not Gift.objects.exists()


# Refunds


@pytest.fixture
def paid_gift(project, make_gift):
    """A $50 gift already paid, next to a $25 one, so project totals show what a refund takes away."""
    make_gift(project, amount_minor=2_500, stripe_payment_intent_id="pi_other", paid_at=timezone.now())
    return make_gift(
        project,
        amount_minor=5_000,
        stripe_checkout_session_id="cs_test_paid",
        stripe_payment_intent_id="pi_3QbXy2B7WZ01zgkW1aB2cD3e",
        paid_at=timezone.now(),
    )


def refund_event(stripe_event, gift, amount_refunded):
    return stripe_event(
        "charge_refunded",
        gift=gift,
        amount_refunded=amount_refunded,
        refunded=amount_refunded == gift.amount_minor,
    )


def test_a_partial_refund_lowers_the_total(post_event, project, paid_gift, stripe_event):
    assert totals(project) == (7_500, 2)

    response = post_event(refund_event(stripe_event, paid_gift, 2_000))

    assert response.status_code == 200
    paid_gift.refresh_from_db()
    assert (paid_gift.status, money(paid_gift).refunded_minor) == (Gift.Status.PARTIALLY_REFUNDED, 2_000)
    assert paid_gift.stripe_charge_id == "ch_3QbXy2B7WZ01zgkW1FgH4iJk"
    assert totals(project) == (5_500, 2)


def test_a_full_refund_takes_the_gift_out_of_the_total(post_event, project, paid_gift, stripe_event):
    post_event(refund_event(stripe_event, paid_gift, 2_000))
    post_event(refund_event(stripe_event, paid_gift, 5_000))

    paid_gift.refresh_from_db()
    assert (paid_gift.status, money(paid_gift).refunded_minor) == (Gift.Status.REFUNDED, 5_000)
    assert totals(project) == (2_500, 1)


def test_a_late_event_about_an_earlier_partial_refund_changes_nothing(
    post_event, project, paid_gift, stripe_event
):
    partial = refund_event(stripe_event, paid_gift, 2_000)
    full = refund_event(stripe_event, paid_gift, 5_000)

    post_event(full)
    post_event(partial)

    paid_gift.refresh_from_db()
    assert (paid_gift.status, money(paid_gift).refunded_minor) == (Gift.Status.REFUNDED, 5_000)
    assert totals(project) == (2_500, 1)


def test_a_refund_found_by_payment_intent_alone(post_event, project, paid_gift, stripe_event):
    event = refund_event(stripe_event, paid_gift, 1_000)
    event["data"]["object"]["metadata"] = {}

    post_event(event)

    paid_gift.refresh_from_db()
    assert money(paid_gift).refunded_minor == 1_000
    assert Gift.objects.count() == 2


@pytest.mark.parametrize(
    ("refunded", "status", "total"),
    [(2_000, Gift.Status.PARTIALLY_REFUNDED, 3_000), (5_000, Gift.Status.REFUNDED, 0)],
)
def test_a_refund_arriving_before_the_payment_ends_right(
    post_event, project, make_pending_gift, stripe_event, refunded, status, total
):
    gift = make_pending_gift(project, amount_minor=5_000)
    refund = stripe_event(
        "charge_refunded",
        gift=gift,
        payment_intent="pi_3QbXoutoforder",
        amount_refunded=refunded,
        refunded=refunded == 5_000,
    )
    completed = stripe_event("checkout_session_completed", gift=gift, payment_intent="pi_3QbXoutoforder")

    assert post_event(refund).status_code == 200
    assert post_event(completed).status_code == 200

    assert Gift.objects.count() == 1
    gift.refresh_from_db()
    assert (gift.status, gift.amount_minor, money(gift).refunded_minor) == (status, 5_000, refunded)
    assert gift.stripe_payment_intent_id == "pi_3QbXoutoforder"
    assert gift.donor_email == "jane.donor@example.com"
    assert gift.needs_review is False
    assert totals(project) == (total, 1 if total else 0)
    assert set(StripeEvent.objects.values_list("status", flat=True)) == {StripeEvent.Status.PROCESSED}


def test_a_refund_of_a_charge_that_is_no_gift_is_stored_and_not_applied(
    post_event, general_fund, project, stripe_event
):
    # Someone else's sale on the shared account, partly refunded: no gift, no total changes.
    event = stripe_event(
        "charge_refunded", metadata={"project_id": str(project.pk)}, amount=5_000, amount_refunded=2_000
    )

    assert post_event(event).status_code == 200

    assert not Gift.objects.exists()
    assert totals(project) == (0, 0)
    assert totals(general_fund) == (0, 0)
    assert StripeEvent.objects.get().status == StripeEvent.Status.UNMATCHED


# Failures: stored, answered 500 so Stripe retries, and replayable


@pytest.fixture
def failed_event(post_event, project, stripe_event):
    """A payment with no project in its metadata, arriving while there is no general fund."""
    event = stripe_event(
        "checkout_session_completed", id="cs_test_orphan", client_reference_id=None, metadata=MARKER
    )
    response = post_event(event)
    assert response.status_code == 500
    return event


def test_a_failing_handler_answers_500_and_keeps_the_event(failed_event):
    stored = StripeEvent.objects.get()
    assert stored.status == StripeEvent.Status.FAILED
    assert stored.attempts == 1
    assert "no general fund" in stored.last_error
    assert stored.processed_at is None
    assert not Gift.objects.exists()


def test_an_attempt_whose_outcome_cannot_be_saved_still_keeps_the_event(
    post_event, project, stripe_event, monkeypatch
):
    # The event is stored and applied in one transaction; when even recording how the
    # attempt ended (here: skipped, not this site's) fails, that transaction is undone,
    # and the event must still be kept.
    real_save = StripeEvent.save

    def failing_save(self, *args, **kwargs):
        if kwargs.get("update_fields"):
            raise DatabaseError("the database went away")
        return real_save(self, *args, **kwargs)

    monkeypatch.setattr(StripeEvent, "save", failing_save)
    event = stripe_event(
        "checkout_session_completed", id="cs_test_orphan", client_reference_id=None, metadata={}
    )

    response = post_event(event)

    assert response.status_code == 500
    stored = StripeEvent.objects.get()
    assert (stored.stripe_id, stored.status, stored.attempts) == (event["id"], StripeEvent.Status.FAILED, 1)
    assert "the database went away" in stored.last_error
    assert not Gift.objects.exists()


def test_staff_can_replay_a_failed_event_once_the_cause_is_fixed(admin_client, failed_event, general_fund):
    stored = StripeEvent.objects.get()

    response = admin_client.post(
        reverse("admin:donations_stripeevent_changelist"),
        {"action": "replay", "_selected_action": [stored.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "1 event(s) applied." in response.content.decode()
    stored.refresh_from_db()
    assert (stored.status, stored.attempts, stored.last_error) == (StripeEvent.Status.PROCESSED, 2, "")
    gift = Gift.objects.get()
    assert (gift.project, gift.status) == (general_fund, Gift.Status.SUCCEEDED)
    assert totals(general_fund) == (5_000, 1)


def test_replaying_without_fixing_the_cause_fails_again(admin_client, failed_event):
    stored = StripeEvent.objects.get()

    response = admin_client.post(
        reverse("admin:donations_stripeevent_changelist"),
        {"action": "replay", "_selected_action": [stored.pk]},
        follow=True,
    )

    assert "1 event(s) failed again" in response.content.decode()
    stored.refresh_from_db()
    assert (stored.status, stored.attempts) == (StripeEvent.Status.FAILED, 2)
    assert not Gift.objects.exists()


def test_replaying_an_applied_event_changes_nothing(admin_client, post_event, general_fund, stripe_event):
    post_event(
        stripe_event(
            "checkout_session_completed", id="cs_test_once", client_reference_id=None, metadata=MARKER
        )
    )
    stored = StripeEvent.objects.get()

    response = admin_client.post(
        reverse("admin:donations_stripeevent_changelist"),
        {"action": "replay", "_selected_action": [stored.pk]},
        follow=True,
    )

    assert "Nothing to replay" in response.content.decode()
    stored.refresh_from_db()
    assert stored.attempts == 1
    assert Gift.objects.count() == 1


def test_stripe_delivering_a_failed_event_again_applies_it(post_event, failed_event, make_project):
    make_project(title="General fund", slug="general-fund", is_general_fund=True)

    assert post_event(failed_event).status_code == 200

    stored = StripeEvent.objects.get()
    assert (stored.status, stored.attempts) == (StripeEvent.Status.PROCESSED, 2)
    assert Gift.objects.get().status == Gift.Status.SUCCEEDED
