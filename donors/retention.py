"""Retention: personal data the site no longer needs goes on its own, once a day.

`manage.py apply_retention` (daily, from cron or the host's scheduler) applies the periods
below; each is an environment variable (see the README), and the Privacy page lists them as
configured. Money is never touched: a gift's amount, date, project, fee, Stripe ids and
receipt number stay as long as the ledger does; after FINANCIAL_RECORDS_YEARS only the
personal data on them goes, as in an erasure.
"""

from dataclasses import dataclass

from django.conf import settings
from django.db import models, transaction
from django.db.models import Q
from django.utils import timezone

from donations.models import Donor, Gift, RecurringGift, StripeEvent
from donors.models import Email, PrivacyRequest, SignInLink
from donors.privacy import ANONYMOUS_DONOR, ERASED, PERSONAL_DATA, scrub


@dataclass(frozen=True)
class Period:
    what: str
    setting: str
    unit: str  # "days" or "years"

    @property
    def length(self):
        return getattr(settings, self.setting)

    def cutoff(self, now):
        days = self.length * (365 if self.unit == "years" else 1)
        return now - timezone.timedelta(days=days)

    def __str__(self):
        return f"{self.length} {self.unit if self.length != 1 else self.unit[:-1]}"


ABANDONED = Period(
    "Name, email address and dedication typed into a donate form that was never paid, and the donor "
    "record of an address that never gave",
    "RETENTION_ABANDONED_CHECKOUT_DAYS",
    "days",
)
SIGN_IN = Period("Manage my giving sign-in links and the requests for them", "RETENTION_SIGN_IN_DAYS", "days")
EMAILS = Period(
    "The address each email went to, and mail servers' errors quoting it (we do not keep email bodies)",
    "RETENTION_EMAIL_DAYS",
    "days",
)
EXPORTS = Period("A download of your data", "DATA_EXPORT_DAYS", "days")
FINANCIAL = Period(
    "Gifts with your name, address and dedication, and our payment processor's records of them "
    "(the law asks a charity to keep its accounts); after that the amounts stay, without your name",
    "FINANCIAL_RECORDS_YEARS",
    "years",
)
PERIODS = (ABANDONED, SIGN_IN, EMAILS, EXPORTS, FINANCIAL)

UNPAID = (Gift.Status.PENDING, Gift.Status.NOT_STARTED, Gift.Status.FAILED, Gift.Status.ABANDONED)
GIFT_PERSONAL = {
    "donor_name": "",
    "donor_email": "",
    "dedication": "",
    "dedication_name": "",
    "note": "",
    "wants_impact_emails": False,
    "donor": None,
}


def apply_retention(now=None):
    """Apply every period; returns what was done, in counts."""
    now = now or timezone.now()
    done = {}
    with transaction.atomic():
        done["unpaid gifts made anonymous"] = (
            Gift.objects.filter(status__in=UNPAID, created_at__lt=ABANDONED.cutoff(now))
            .filter(~Q(donor_email="") | ~Q(donor_name="") | ~Q(dedication_name="") | Q(donor__isnull=False))
            .update(**GIFT_PERSONAL, updated_at=now)
        )
        done["donors who never gave deleted"] = _delete_donors_who_never_gave(ABANDONED.cutoff(now))
        done["sign-in links deleted"] = SignInLink.objects.filter(
            created_at__lt=SIGN_IN.cutoff(now)
        ).delete()[0]
        done["sign-in emails deleted"] = Email.objects.filter(
            kind=Email.Kind.SIGN_IN, created_at__lt=SIGN_IN.cutoff(now)
        ).delete()[0]
        done["sign-in requests deleted"] = _delete_finished_tasks(
            "donors.tasks.send_sign_in_link", SIGN_IN.cutoff(now)
        )
        done["email addresses removed"] = (
            Email.objects.filter(created_at__lt=EMAILS.cutoff(now))
            .exclude(to="", last_error="")
            .exclude(status__in=[*Email.SENDABLE, Email.Status.SENDING])
            .update(to="", last_error="")
        )
        done["downloads deleted"] = PrivacyRequest.objects.filter(
            kind=PrivacyRequest.Kind.EXPORT, archive__isnull=False, expires_at__lt=now
        ).update(archive=None, status=PrivacyRequest.Status.EXPIRED)
        done["old gifts made anonymous"] = _anonymise_old_gifts(FINANCIAL.cutoff(now), now)
        done["old Stripe events redacted"] = _redact_old_events(FINANCIAL.cutoff(now))
    return done


def _delete_donors_who_never_gave(cutoff):
    paid = Gift.objects.filter(donor=models.OuterRef("pk"), status__in=Gift.PAID_STATUSES)
    monthly = RecurringGift.objects.filter(donor=models.OuterRef("pk"))
    idle = (
        Donor.objects.filter(created_at__lt=cutoff)
        .annotate(paid=models.Exists(paid), monthly=models.Exists(monthly))
        .filter(paid=False, monthly=False)
    )
    ids = list(idle.values_list("pk", flat=True))
    Gift.objects.filter(donor_id__in=ids).update(donor=None)
    return Donor.objects.filter(pk__in=ids).delete()[1].get("donations.Donor", 0)


def _delete_finished_tasks(task_path, cutoff):
    from django_tasks_db.models import DBTaskResult

    finished = DBTaskResult.objects.filter(task_path=task_path, enqueued_at__lt=cutoff)
    return finished.exclude(status__in=["READY", "RUNNING"]).delete()[0]


def _anonymise_old_gifts(cutoff, now):
    old = Gift.objects.filter(Q(paid_at__lt=cutoff) | Q(paid_at__isnull=True, created_at__lt=cutoff))
    old = old.filter(
        ~Q(donor_name__in=["", ANONYMOUS_DONOR])
        | ~Q(donor_email="")
        | ~Q(dedication_name="")
        | ~Q(note="")
        | Q(donor__isnull=False)
    )
    ids = list(old.values_list("pk", flat=True))
    if not ids:
        return 0
    named = Gift.objects.filter(pk__in=ids).exclude(donor_name="")
    named.update(donor_name=ANONYMOUS_DONOR)
    fields = {k: v for k, v in GIFT_PERSONAL.items() if k != "donor_name"}
    Gift.objects.filter(pk__in=ids).update(**fields, updated_at=now)
    _erase_audit_values(ids)
    return len(ids)


def _erase_audit_values(gift_ids):
    from auditlog.models import LogEntry
    from django.contrib.contenttypes.models import ContentType

    personal = PERSONAL_DATA["donations.gift"].keys()
    entries = LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(Gift), object_pk__in=[str(i) for i in gift_ids]
    )
    for entry in entries.iterator():
        if isinstance(entry.changes, dict) and personal & entry.changes.keys():
            entry.changes = {k: [ERASED, ERASED] if k in personal else v for k, v in entry.changes.items()}
            entry.save(update_fields=["changes"])


def _redact_old_events(cutoff):
    count = 0
    for event in StripeEvent.objects.filter(received_at__lt=cutoff).only("pk", "payload").iterator():
        redacted = scrub(event.payload, set(), set())
        if redacted != event.payload:
            StripeEvent.objects.filter(pk=event.pk).update(payload=redacted)
            count += 1
    return count
