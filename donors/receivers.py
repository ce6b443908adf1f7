"""Emails decided when money changes or a story goes live, all sent from tasks after commit.

The money signals arrive inside the transaction that records the change (see
donations/signals.py), so an email decided here is stored with the money, or not at
all: an error here undoes the change, and the webhook's event is tried again.
"""

from django.db.models.signals import post_save
from django.dispatch import receiver

from donations.models import Donor, Gift
from donations.signals import gift_paid, gift_refunded, monthly_gift_cancelled, payment_failed
from donors import consent, impact
from donors.models import Email, StoryAnnouncement
from stories.models import Story


@receiver(gift_paid, dispatch_uid="donors-receipt")
def send_receipt(sender, gift, **kwargs):
    """One receipt per paid gift, whatever number of times Stripe's events say so."""
    if gift.donor_id:
        # Tied to its donor already (webhooks do it): the email is the only write.
        _queue_receipt(gift, gift.donor)
        return
    donor = Donor.for_email(gift.donor_email, name=gift.donor_name)
    if donor is None:
        return  # no address to send it to (an offline gift recorded without one)
    # Tie the gift to its donor, so "Manage my giving" and impact emails find it; the
    # instance too, so that saving it again in this transaction keeps the tie.
    Gift.objects.filter(pk=gift.pk, donor__isnull=True).update(donor=donor)
    gift.donor = donor
    _queue_receipt(gift, donor)


def _queue_receipt(gift, donor):
    Email.objects.queue(
        kind=Email.Kind.RECEIPT,
        key=f"receipt:{gift.pk}",
        to=gift.donor_email or donor.email,
        donor=donor,
        gift_id=gift.pk,
    )


@receiver(gift_paid, dispatch_uid="donors-stories-consent")
def apply_stories_consent(sender, gift, **kwargs):
    """The form's "email me stories" counts once its gift is paid (after the receipt's
    receiver has tied the gift to its donor)."""
    consent.apply_from_paid_gift(gift)


@receiver(gift_paid, dispatch_uid="donors-dedication")
def tell_the_honorees_family(sender, gift, **kwargs):
    """The donor asked us to tell the honoree's family: once, when the first payment arrives
    (a monthly gift's later months do not write again)."""
    if not (gift.dedication and gift.dedication_name and gift.dedication_notify_email):
        return
    Email.objects.queue(
        kind=Email.Kind.DEDICATION,
        key=f"dedication:{f'monthly:{gift.recurring_gift_id}' if gift.recurring_gift_id else gift.pk}",
        to=gift.dedication_notify_email,
        # Tied to the donor, so that erasing them blanks this address too.
        donor=gift.donor,
        data={"gift_id": gift.pk},
    )


@receiver(gift_refunded, dispatch_uid="donors-refund")
def send_refund_confirmation(sender, gift, entries, **kwargs):
    """One confirmation per refund, quoting what Stripe gave back (the ledger's entries
    of that refund), whatever number of times its event arrives."""
    to = gift.donor_email or (gift.donor.email if gift.donor_id else "")
    if not to or not entries:
        return
    ids = sorted(entry.pk for entry in entries)
    Email.objects.queue(
        kind=Email.Kind.REFUND,
        key=f"refund:{gift.pk}:{ids[0]}",
        to=to,
        donor_id=gift.donor_id,
        gift_id=gift.pk,
        data={"entry_ids": ids},
    )


@receiver(payment_failed, dispatch_uid="donors-payment-failed")
def send_update_your_card(sender, recurring_gift, **kwargs):
    # To the address Stripe confirmed for the last paid month, as its receipt was.
    paid = recurring_gift.payments.filter(status__in=Gift.PAID_STATUSES).exclude(donor_email="")
    latest = paid.select_related("donor").order_by("-paid_at", "-pk").first()
    donor = latest.donor if latest is not None and latest.donor_id else recurring_gift.donor
    to = latest.donor_email if latest is not None else (donor.email if donor else "")
    if donor is None or not to:
        return
    Email.objects.queue(
        kind=Email.Kind.PAYMENT_FAILED,
        key=f"payment_failed:{recurring_gift.pk}:{recurring_gift.state_as_of or ''}",
        to=to,
        donor=donor,
        data={"recurring_gift_id": recurring_gift.pk},
    )


@receiver(monthly_gift_cancelled, dispatch_uid="donors-monthly-cancelled")
def send_cancellation(sender, recurring_gift, **kwargs):
    donor = recurring_gift.donor
    # An erased donor (no address left) is not written to.
    if donor is None or not donor.email:
        return
    Email.objects.queue(
        kind=Email.Kind.MONTHLY_CANCELLED,
        key=f"monthly_cancelled:{recurring_gift.pk}",
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
