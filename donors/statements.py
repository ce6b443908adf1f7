"""Year-end statements: one email per donor summing up their gifts of a year."""

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from donations.models import Donor
from donors.impact import batched
from donors.models import Email, enqueue_after_commit
from ledger import figures


def donors_for_year(year):
    """Donors with at least one gift received in `year` (the site's time zone) that gave
    anything, net, and sponsors whose matches pledged in it: the donors a statement is due
    to (ledger.figures.statement and sponsor_matches)."""
    bounds = figures.year_bounds(year)
    return Donor.objects.filter(
        Q(pk__in=figures.donors_who_gave(*bounds)) | Q(pk__in=figures.sponsors_who_matched(*bounds))
    )


def email_key(year, donor_id):
    return f"statement:{year}:{donor_id}"


def pending_donors(year):
    """Donors due a statement for `year` who were not sent one yet."""
    already = Email.objects.filter(kind=Email.Kind.STATEMENT, key__startswith=f"statement:{year}:")
    return donors_for_year(year).exclude(pk__in=already.filter(donor__isnull=False).values("donor"))


def queue_statements(year):
    """Queue one statement per donor for the year; running it again sends no second one."""
    queued = 0
    with transaction.atomic():
        donors = list(pending_donors(year).order_by("pk").values_list("pk", "email"))
        for batch in batched(donors, settings.EMAIL_BATCH_SIZE):
            Email.objects.bulk_create(
                [
                    Email(
                        kind=Email.Kind.STATEMENT,
                        key=email_key(year, pk),
                        to=address,
                        donor_id=pk,
                        data={"year": year},
                    )
                    for pk, address in batch
                ],
                ignore_conflicts=True,
            )
            ids = list(
                Email.objects.filter(
                    key__in=[email_key(year, pk) for pk, _ in batch], status=Email.Status.PENDING
                ).values_list("pk", flat=True)
            )
            enqueue_after_commit(ids)
            queued += len(ids)
    return queued
