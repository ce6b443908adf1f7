"""Emails decided when money changes or a story goes live (all sent from tasks after commit)."""

import functools
import logging

from django.db import transaction
from django.db.models.signals import post_save
from django.dispatch import receiver

from donations.models import Donor, Gift
from donations.signals import gift_paid, gift_refunded, payment_failed
from donors import impact
from donors.models import Email, StoryAnnouncement
from stories.models import Story

logger = logging.getLogger(__name__)


def never_raises(receiver_function):
    """These run after the money was committed: a failure here is logged, and must never
    turn the webhook's answer into an error (Stripe would retry an event already applied)."""

    @functools.wraps(receiver_function)
    def wrapped(*args, **kwargs):
        try:
            receiver_function(*args, **kwargs)
        except Exception:
            logger.exception("Could not queue the email of %s", receiver_function.__name__)

    return wrapped


@receiver(gift_paid, dispatch_uid="donors-receipt")
@never_raises
def send_receipt(sender, gift, **kwargs):
    """One receipt per paid gift, whatever number of times Stripe's events say so."""
    if gift.donor_id:
        # Tied to its donor already (webhooks do it): the email is the only write.
        _queue_receipt(gift, gift.donor)
        return
    with transaction.atomic():
        donor = Donor.for_email(gift.donor_email, name=gift.donor_name)
        if donor is None:
            return  # no address to send it to (an offline gift recorded without one)
        # Tie the gift to its donor, so "Manage my giving" and impact emails find it.
        Gift.objects.filter(pk=gift.pk, donor__isnull=True).update(donor=donor)
        _queue_receipt(gift, donor)


def _queue_receipt(gift, donor):
    Email.objects.queue(
        kind=Email.Kind.RECEIPT,
        key=f"receipt:{gift.pk}",
        to=gift.donor_email or donor.email,
        donor=donor,
        gift_id=gift.pk,
    )


@receiver(gift_refunded, dispatch_uid="donors-refund")
@never_raises
def send_refund_confirmation(sender, gift, **kwargs):
    to = gift.donor_email or (gift.donor.email if gift.donor_id else "")
    if not to:
        return
    refunded = gift.amount_refunded_minor
    Email.objects.queue(
        kind=Email.Kind.REFUND,
        key=f"refund:{gift.pk}:{refunded}",
        to=to,
        donor_id=gift.donor_id,
        gift_id=gift.pk,
        data={"refunded_minor": refunded},
    )


@receiver(payment_failed, dispatch_uid="donors-payment-failed")
@never_raises
def send_update_your_card(sender, recurring_gift, **kwargs):
    donor = recurring_gift.donor
    if donor is None:
        return
    Email.objects.queue(
        kind=Email.Kind.PAYMENT_FAILED,
        key=f"payment_failed:{recurring_gift.pk}:{recurring_gift.state_as_of or ''}",
        to=donor.email,
        donor=donor,
        data={"recurring_gift_id": recurring_gift.pk},
    )


@receiver(post_save, sender=Story, dispatch_uid="donors-announce-story")
def announce_story(sender, instance, raw=False, **kwargs):
    if raw or instance.status != Story.Status.PUBLISHED:
        return
    if not StoryAnnouncement.objects.filter(story=instance).exists():
        impact.announce_after_commit(instance)
