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
    # What the refund left the gift counting for, before and after.
    assert refunded["net_minor"] == [str(gift.amount_minor), str(money(gift).net_minor)]
    assert refunded["status"][1] == gift.status
    # Each entry names the gift as the admin lists it: by its project's current title.
    assert {entry.object_repr for entry in updates} == {f"Gift #{gift.pk} to {project.title}"}
