"""Consent to impact emails: given only by the donor, with every change kept.

Anyone can type an address into the donate form, so its "email me stories" tick is stored
on the gift (`Gift.wants_impact_emails`) and applied only when Stripe says that gift is
paid. Even then it never overrides an unsubscribe: a donor who turned stories off (or
whose address is on the suppression list after an erasure) is sent a link to confirm
instead, and only following it turns stories on again. Every change, on or off, is a
`ConsentChange` row: when, how, and from which gift or link.
"""

from django.db import transaction
from django.utils import timezone

from donations.models import Donor
from donors.models import ConsentChange, Email


def opted_out(donor):
    """Whether the donor turned stories off and has not turned them on again since, or the
    address was erased once (the suppression list): then only a confirmed link turns them on."""
    from donors.privacy import is_suppressed

    changes = donor.consent_changes.order_by("-at", "-pk")
    return changes.values_list("wants_impact_emails", flat=True).first() is False or is_suppressed(
        donor.email
    )


def change(donor, wanted, *, method, gift=None, email=None):
    """Set the donor's consent and log it; nothing is logged when nothing changes.
    Returns whether it changed."""
    with transaction.atomic():
        current = (
            Donor.objects.select_for_update()
            .filter(pk=donor.pk)
            .values_list("wants_impact_emails", flat=True)
        )
        current = next(iter(current), None)
        if current is None or current == wanted:
            donor.wants_impact_emails = bool(current)
            return False
        now = timezone.now()
        fields = {"wants_impact_emails": wanted}
        if wanted:
            fields["impact_consent_at"] = now
        Donor.objects.filter(pk=donor.pk).update(**fields)
        ConsentChange.objects.create(
            donor=donor, wants_impact_emails=wanted, method=method, gift=gift, email=email, at=now
        )
        for name, value in fields.items():
            setattr(donor, name, value)
        return True


def apply_from_paid_gift(gift):
    """The gift that asked for stories is paid: turn them on for its donor, or, after an
    unsubscribe, email the address a link to confirm. In the payment's transaction."""
    if not gift.wants_impact_emails:
        return
    donor = gift.donor if gift.donor_id else Donor.for_email(gift.donor_email)
    if donor is None or donor.wants_impact_emails:
        return
    if opted_out(donor):
        Email.objects.queue(
            kind=Email.Kind.CONFIRM_STORIES,
            key=f"confirm_stories:{gift.pk}",
            to=donor.email,
            donor=donor,
            gift_id=gift.pk,
        )
        return
    change(donor, True, method=ConsentChange.Method.DONATE_FORM, gift=gift)
