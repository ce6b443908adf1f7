"""Gifts changed by Stripe's webhooks keep an audit trail too: no person, the values before and after."""

import pytest
from auditlog.models import LogEntry
from django.db import connection

from donations.models import Gift

pytestmark = pytest.mark.django_db


def test_a_gift_paid_and_refunded_by_webhooks_keeps_its_history(
    post_event, project, make_pending_gift, stripe_event
):
    gift = make_pending_gift(project)
    statements = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        assert post_event(stripe_event("checkout_session_completed", gift=gift)).status_code == 200
    assert post_event(stripe_event("charge_refunded", gift=gift)).status_code == 200
    # The project's title came with the locked gift: no query of its own on every delivery.
    assert statements
    assert not [sql for sql in statements if sql.startswith('SELECT "donations_project"')]

    gift.refresh_from_db()
    assert gift.status in (Gift.Status.REFUNDED, Gift.Status.PARTIALLY_REFUNDED)
    updates = LogEntry.objects.get_for_object(gift).filter(action=LogEntry.Action.UPDATE).order_by("pk")
    assert [entry.actor for entry in updates] == [None] * updates.count()
    paid, refunded = updates[0].changes_dict, updates.last().changes_dict
    assert paid["status"] == ["pending", "succeeded"]
    assert refunded["amount_refunded_minor"][0] == "0"
    assert refunded["amount_refunded_minor"][1] == str(gift.amount_refunded_minor)
    # Each entry names the gift as the admin lists it: by its project's current title.
    assert {entry.object_repr for entry in updates} == {f"Gift #{gift.pk} to {project.title}"}


def test_an_entry_written_from_a_gift_loaded_without_its_project_names_the_project_too(
    project, make_pending_gift
):
    gift = make_pending_gift(project)
    Gift.objects.filter(pk=gift.pk).update(donor_name="")  # a row that differs, without a log entry
    loaded = Gift.objects.get(pk=gift.pk)  # as an admin action would: project not read
    loaded.dedication = "For Grandma"
    loaded.save()

    entry = LogEntry.objects.get_for_object(gift).filter(action=LogEntry.Action.UPDATE).get()
    assert entry.object_repr == f"Gift #{gift.pk} to {project.title}"
    assert entry.changes_dict["dedication"] == ["", "For Grandma"]
