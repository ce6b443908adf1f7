"""Checkouts a donor left: marked abandoned by Stripe's expiry event or, when that event is
lost, by the worker's hourly sweep once Stripe's 24 hours have passed."""

import secrets

import pytest
from django.utils import timezone

from donations.models import Gift
from ledger.tasks import sweep_abandoned_checkouts

pytestmark = pytest.mark.django_db


@pytest.fixture
def simulated(settings, stripe_stub):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = True
    yield
    assert stripe_stub.requests == []  # the simulated Stripe answered


def checkout(project, hours_ago):
    from donations.services import SIMULATED_SESSION_PREFIX

    gift = Gift.objects.create(
        project=project,
        amount_minor=2_500,
        currency="usd",
        stripe_checkout_session_id=SIMULATED_SESSION_PREFIX + secrets.token_hex(16),
    )
    Gift.objects.filter(pk=gift.pk).update(created_at=timezone.now() - timezone.timedelta(hours=hours_ago))
    return gift


def test_the_sweep_marks_checkouts_abandoned_after_stripes_24_hours(simulated, project):
    expired = checkout(project, hours_ago=26)
    still_open = checkout(project, hours_ago=2)

    result = sweep_abandoned_checkouts.call()

    assert result["status"] == "finished"
    assert Gift.objects.get(pk=expired.pk).status == Gift.Status.ABANDONED
    assert Gift.objects.get(pk=still_open.pk).status == Gift.Status.PENDING


def test_the_sweep_does_nothing_without_a_stripe_account(settings, project):
    settings.STRIPE_SECRET_KEY = ""
    settings.SIMULATED_CHECKOUT = False
    gift = checkout(project, hours_ago=26)
    assert sweep_abandoned_checkouts.call() is None
    assert Gift.objects.get(pk=gift.pk).status == Gift.Status.PENDING
