"""Gifts changed by Stripe's webhooks keep an audit trail too: no person, the values before and after."""

import pytest
from auditlog.models import LogEntry

from donations.models import Gift
from tests.conftest import money

pytestmark = pytest.mark.django_db


def test_a_gift_paid_and_refunded_by_webhooks_keeps_its_history(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project)
    assert post_event(stripe_event("checkout_session_completed", gift=gift)).status_code == 200
    assert post_event(stripe_event("charge_refunded", gift=gift)).status_code == 200

    gift.refresh_from_db()
    assert gift.status in (Gift.Status.REFUNDED, Gift.Status.PARTIALLY_REFUNDED)
    updates = LogEntry.objects.get_for_object(gift).filter(action=LogEntry.Action.UPDATE).order_by("pk")
    assert [entry.actor for entry in updates] == [None] * updates.count()
    paid, refunded = updates[0].changes_dict, updates.last().changes_dict
    assert paid["status"] == ["pending", "succeeded"]
    assert refunded["amount_refunded_minor"][0] == "0"
    assert refunded["amount_refunded_minor"][1] == str(money(gift).refunded_minor)
    # Each entry names the gift as the admin lists it: by its project's current title.
    assert {entry.object_repr for entry in updates} == {f"Gift #{gift.pk} to {project.title}"}
