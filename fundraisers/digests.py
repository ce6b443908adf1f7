"""The digest of new gifts a page's owner receives: who gave, as each donor chose.

The owner sees a donor's name, or name and amount, only as the donor chose on the donate
form (Gift.owner_sees), and never an email address: the digest is built from the gift's
name and amount alone.
"""

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone

from donations.models import Gift
from fundraisers.models import Fundraiser
from ledger import figures


def shown_to_owner(gift):
    """What the owner may see of one gift (with its `money`, from figures.with_money)."""
    name = gift.donor_name.strip() if gift.owner_sees != Gift.OwnerSees.ANONYMOUS else ""
    amount = ""
    if gift.owner_sees == Gift.OwnerSees.NAME_AND_AMOUNT:
        amount = gift.money.money("net")
    return {"name": name or "Anonymous", "amount": amount, "paid_at": gift.paid_at}


def gifts_for_owner(fundraiser, since=None):
    """The page's gifts that count, newest first, reduced to what the owner may see.
    Reads only the name, choice and amount: no address ever leaves the database."""
    gifts = (
        fundraiser.gifts.counted()
        .only("donor_name", "owner_sees", "net_minor", "currency", "paid_at")
        .order_by("-paid_at")
    )
    if since is not None:
        gifts = gifts.filter(paid_at__gt=since)
    # Each amount is the sum of the gift's entries (one query for them all), so a refund shows.
    return [shown_to_owner(gift) for gift in figures.with_money(gifts)]


def send_all(now=None):
    """One digest per page with new gifts since its last; returns how many were queued."""
    from fundraisers.tasks import send_supporter_email

    now = now or timezone.now()
    sent = 0
    # Only pages with a gift paid since their last digest (one filter: one join of gifts).
    new_gift = Q(gifts__paid_at__isnull=False) & (
        Q(digest_sent_at__isnull=True) | Q(gifts__paid_at__gt=F("digest_sent_at"))
    )
    pages = (
        Fundraiser.objects.exclude(status=Fundraiser.Status.REMOVED)
        .filter(new_gift)
        .distinct()
        .select_related("supporter", "project")
    )
    for page in pages:
        with transaction.atomic():
            locked = Fundraiser.objects.select_for_update().get(pk=page.pk)
            new = [g for g in gifts_for_owner(page, since=locked.digest_sent_at) if g["paid_at"] <= now]
            Fundraiser.objects.filter(pk=page.pk).update(digest_sent_at=now)
            if not new:
                continue
            page_figures = figures.fundraiser_figures(page)
            context = {
                "title": page.title,
                "gifts": [{"name": g["name"], "amount": g["amount"]} for g in new],
                "raised": page_figures.raised,
                "gift_count": page_figures.gift_count,
                "url": settings.SITE_URL + reverse("fundraisers:owner", args=[page.slug]),
            }
            subject = f"New gifts on your fundraiser “{page.title}”"
            transaction.on_commit(
                lambda to=page.supporter.email, c=context, s=subject: send_supporter_email.enqueue(
                    to, "fundraiser_digest", s, c
                )
            )
            sent += 1
    return sent
