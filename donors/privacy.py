"""Export and erasure on request: what the site holds about a donor, in one place.

`PERSONAL_DATA` names every field that can hold a donor's personal data, model by model:
how erasure treats it, and whether the donor's download includes it. `NOT_PERSONAL` names
every other field of the same models. tests/donors/test_privacy.py fails when a model that
refers to a donor, or a model listed here, gains a field neither names, and when any model
gains an email field: export and erasure cannot forget it.

*Download my data* builds a ZIP (a JSON file and one CSV per part) in the background and
emails a link that works for DATA_EXPORT_DAYS. *Erase me* cancels the donor's monthly gifts
at Stripe first (if that fails, nothing is erased and the request waits to be tried again),
then, in one transaction, removes their name, addresses, dedications and notes everywhere
the registry says, keeps every financial row (amount, date, project, fee, Stripe ids,
receipt number) under "Anonymous donor", keeps the address only as a salted hash on the
suppression list, and deletes the donor. The Stripe customer is deleted after that; a
failure there is recorded on the request for follow-up and does not undo the erasure.
"""

import csv
import hashlib
import hmac
import io
import json
import logging
import re
import zipfile
from dataclasses import dataclass
from functools import reduce
from operator import or_

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import Q
from django.db.models.functions import Cast
from django.utils import timezone

from donations import services, stripe_gateway
from donations.models import Donor, Gift, GiftMove, RecurringGift, StripeEvent
from donors.models import ConsentChange, Email, PrivacyRequest, SignInLink, SuppressedEmail, enqueue_on_commit
from ledger import figures

logger = logging.getLogger(__name__)

ANONYMOUS_DONOR = "Anonymous donor"  # also donations.views.ANONYMOUS_DONOR
ERASED = "[erased]"

# How erasure treats a field.
DELETE = "the row is deleted"
UNLINK = "the link to the donor is removed"
BLANK = "emptied"
ANONYMOUS = f'set to "{ANONYMOUS_DONOR}"'
SCRUB = f'the name and addresses are replaced by "{ERASED}" where they appear'


@dataclass(frozen=True)
class Held:
    erase: str
    export: bool = True  # in the donor's download (False: staff's or Stripe's records, said why)
    why_not_exported: str = ""


def _staff_record(why):
    return Held(SCRUB, export=False, why_not_exported=why)


PERSONAL_DATA = {
    "donations.donor": {
        "email": Held(DELETE),
        "name": Held(DELETE),
        "stripe_customer_id": Held(DELETE),
        "wants_impact_emails": Held(DELETE),
        "impact_consent_at": Held(DELETE),
    },
    "donations.gift": {
        "donor": Held(UNLINK, export=False, why_not_exported="the donor's own profile is exported"),
        "donor_name": Held(ANONYMOUS),
        "donor_email": Held(BLANK),
        "dedication": Held(BLANK),
        "dedication_name": Held(BLANK),
        "dedication_notify_email": Held(BLANK),
        "dedication_message": Held(BLANK),
        "note": Held(BLANK),
        "wants_impact_emails": Held(BLANK),
        "review_reason": _staff_record("staff's notes on the payment"),
    },
    "donations.recurringgift": {
        "donor": Held(UNLINK, export=False, why_not_exported="the donor's own profile is exported"),
        "cancellation_reason": Held(BLANK),
    },
    "donations.giftmove": {"reason": _staff_record("staff's record of moving a gift")},
    # A sponsor's match: the name it agreed to show stays only while the sponsor does.
    "campaigns.match": {
        "sponsor": Held(UNLINK, export=False, why_not_exported="the donor's own profile is exported"),
        "sponsor_public_name": Held(
            ANONYMOUS, export=False, why_not_exported="the name the sponsor gave us to show publicly"
        ),
    },
    "donations.stripeevent": {
        "payload": _staff_record("Stripe's record; Stripe answers for it"),
        "last_error": _staff_record("an error report"),
        "note": _staff_record("an error report"),
    },
    "donors.email": {
        "to": Held(BLANK),
        "donor": Held(UNLINK, export=False, why_not_exported="the donor's own profile is exported"),
        "last_error": Held(BLANK, export=False, why_not_exported="a mail server's error report"),
        "data": _staff_record("internal references (amounts, link ids)"),
    },
    "donors.signinlink": {"donor": Held(DELETE, export=False, why_not_exported="one-use links, no content")},
    "donors.consentchange": {"donor": Held(DELETE)},
    "donors.privacyrequest": {
        "donor": Held(UNLINK, export=False, why_not_exported="the request itself"),
        "reason": _staff_record("staff's reason"),
        "error": _staff_record("an error report"),
        "archive": Held(BLANK, export=False, why_not_exported="it is the download"),
    },
    "auditlog.logentry": {
        "object_repr": _staff_record("the audit log"),
        "serialized_data": _staff_record("the audit log"),
        "changes_text": _staff_record("the audit log"),
        "changes": _staff_record("the audit log"),
        "additional_data": _staff_record("the audit log"),
    },
    "django_tasks_database.dbtaskresult": {
        "args_kwargs": Held(DELETE, export=False, why_not_exported="a background task's arguments"),
        "return_value": Held(DELETE, export=False, why_not_exported="a background task's result"),
        "traceback": Held(DELETE, export=False, why_not_exported="an error report"),
    },
}

NOT_PERSONAL = {
    "donations.donor": {"id", "created_at", "updated_at"},
    "donations.gift": {
        "id", "public_id", "project", "amount_minor", "currency", "net_minor", "dispute_status", "status",
        "frequency", "livemode", "show_name_publicly", "stripe_checkout_session_id",
        "stripe_payment_intent_id", "stripe_charge_id", "stripe_dispute_id", "stripe_invoice_id",
        "recurring_gift", "source", "fee_covered_minor", "charged_amount_minor", "charged_currency",
        "refunds_as_of", "needs_review", "created_at", "updated_at", "paid_at", "dedication_shows_amount",
        # The fundraiser page the gift was made on, and what its owner may see: the page's
        # owner reads the gift's name only as donor_name says, which erasure anonymises.
        "fundraiser", "owner_sees",
    },  # fmt: skip
    "donations.recurringgift": {
        "id", "public_id", "project", "amount_minor", "currency", "fee_covered_minor", "status", "livemode",
        "stripe_checkout_session_id", "stripe_subscription_id", "stripe_customer_id", "cancel_at_period_end",
        "started_at", "cancelled_at", "state_as_of", "created_at", "updated_at", "current_period_end",
        "paused_until",
    },
    "donations.giftmove": {"id", "gift", "from_project", "to_project", "moved_by", "moved_at"},
    "campaigns.match": {
        "id", "name", "ratio", "cap_minor", "currency", "per_donor_cap_minor", "per_gift_cap_minor",
        "minimum_gift_minor", "starts_at", "ends_at", "time_zone", "kind", "target_minor", "remainder",
        "matches_monthly_renewals", "status", "matched_minor", "created_at",
    },  # fmt: skip
    "donations.stripeevent": {
        "id", "stripe_id", "type", "api_version", "livemode", "status", "attempts", "payment_id",
        "received_at", "processed_at",
    },
    "donors.email": {
        "id", "key", "kind", "gift", "story", "status", "attempts", "claim", "created_at", "attempted_at",
        "sent_at",
    },
    "donors.signinlink": {"id", "created_at", "used_at"},
    "donors.consentchange": {"id", "wants_impact_emails", "method", "gift", "email", "at"},
    "donors.privacyrequest": {
        "id", "kind", "status", "requested_by", "created_at", "confirmed_at", "completed_at", "summary",
        "stripe_follow_up", "expires_at",
    },
    "auditlog.logentry": {
        "id", "content_type", "object_pk", "object_id", "action", "actor", "cid", "remote_addr",
        "remote_port", "timestamp", "actor_email",
    },
    "django_tasks_database.dbtaskresult": {
        "id", "status", "enqueued_at", "started_at", "finished_at", "priority", "task_path", "worker_ids",
        "queue_name", "backend_name", "run_after", "exception_class_path",
    },
}  # fmt: skip

# Email fields that hold staff's or the charity's own addresses, never a donor's. A
# fundraiser page's supporter signs in with their address as a supporter, not as a donor
# (a supporter who also gives is a Donor too, under that record).
NOT_DONOR_EMAIL_FIELDS = {
    "auth.user.email",
    "charity.charity.contact_email",
    "auditlog.logentry.actor_email",
    "fundraisers.supporter.email",
}

# Keys of Stripe objects that hold the payer's details: emptied in stored events on erasure.
STRIPE_PERSONAL_KEYS = {
    "customer_details", "customer_email", "customer_name", "customer_phone", "customer_address",
    "customer_shipping", "customer_tax_ids", "billing_details", "receipt_email", "shipping",
    "shipping_details", "email", "name", "phone", "address", "individual_name", "business_name",
}  # fmt: skip


# The suppression list


def email_digest(email):
    """The salted hash an erased address is kept as (SUPPRESSION_SALT): it says whether an
    address was erased, and cannot be turned back into one."""
    key = settings.SUPPRESSION_SALT.encode()
    return hmac.new(key, Donor.normalize_email(email).encode(), hashlib.sha256).hexdigest()


def is_suppressed(email):
    return bool(email) and SuppressedEmail.objects.filter(digest=email_digest(email)).exists()


# What belongs to a donor


@dataclass
class Holdings:
    """A donor's rows and the words (addresses, names) that identify them in free text."""

    donor: Donor
    gifts: models.QuerySet
    monthly: models.QuerySet
    emails: set
    names: set

    @classmethod
    def of(cls, donor):
        gifts = Gift.objects.filter(Q(donor=donor) | Q(donor_email__iexact=donor.email))
        monthly = RecurringGift.objects.filter(donor=donor)
        emails = {donor.email} | set(gifts.exclude(donor_email="").values_list("donor_email", flat=True))
        names = {donor.name}
        for name, honoree in gifts.values_list("donor_name", "dedication_name"):
            names |= {name, honoree}
        names.discard(ANONYMOUS_DONOR)
        return cls(
            donor=donor,
            gifts=gifts,
            monthly=monthly,
            emails={Donor.normalize_email(e) for e in emails if e},
            names={n.strip() for n in names if n and len(n.strip()) >= 2},
        )

    def stripe_ids(self):
        ids = set()
        for row in self.gifts.values_list(
            "stripe_checkout_session_id", "stripe_payment_intent_id", "stripe_charge_id", "stripe_invoice_id"
        ):
            ids |= set(row)
        for row in self.monthly.values_list("stripe_subscription_id", "stripe_customer_id"):
            ids |= set(row)
        ids.add(self.donor.stripe_customer_id)
        return {i for i in ids if i}

    def customer_ids(self):
        ids = set(self.monthly.exclude(stripe_customer_id="").values_list("stripe_customer_id", flat=True))
        if self.donor.stripe_customer_id:
            ids.add(self.donor.stripe_customer_id)
        return ids


def scrub(value, emails, names):
    """The value with the donor's addresses and names replaced by [erased], and Stripe's
    payer details emptied, at any depth of JSON."""
    if isinstance(value, dict):
        return {k: None if k in STRIPE_PERSONAL_KEYS else scrub(v, emails, names) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub(v, emails, names) for v in value]
    if isinstance(value, str):
        for email in sorted(emails, key=len, reverse=True):
            value = re.sub(re.escape(email), ERASED, value, flags=re.IGNORECASE)
        for name in sorted(names, key=len, reverse=True):
            value = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", ERASED, value, flags=re.IGNORECASE)
    return value


def _text_contains_any(field, needles):
    needles = [n for n in needles if n]
    if not needles:
        return Q(pk__in=[])
    return reduce(or_, (Q(**{f"{field}__icontains": n}) for n in needles))


# Download my data


def export_data(donor):
    """Everything the site holds about the donor, as they would recognise it."""
    from donors.emails import receipt_number

    holdings = Holdings.of(donor)
    # Each gift's figures are its ledger entries' (charged, refunded, given), as on receipts.
    gifts = figures.with_money(holdings.gifts.select_related("project").order_by("created_at", "pk"))
    data = {
        "exported_at": timezone.now().isoformat(),
        "site": settings.SITE_URL,
        "profile": {
            "email": donor.email,
            "name": donor.name,
            "first_gift_recorded_at": donor.created_at.isoformat(),
            "stripe_customer_id": donor.stripe_customer_id,
        },
        "gifts": [
            {
                "date": (gift.paid_at or gift.created_at).isoformat(),
                "project": gift.project.title,
                "amount_minor": gift.amount_minor,
                "fee_covered_minor": gift.fee_covered_minor,
                "charged_minor": gift.money.charged_minor,
                "refunded_minor": gift.money.refunded_minor,
                "given_minor": gift.money.given_minor,
                "currency": gift.currency,
                "status": gift.get_status_display(),
                "frequency": gift.get_frequency_display(),
                "name_given": gift.donor_name,
                "email_given": gift.donor_email,
                "name_on_donor_wall": gift.show_name_publicly,
                "dedication": gift.get_dedication_display() if gift.dedication else "",
                "dedication_name": gift.dedication_name,
                "dedication_told_by_email": gift.dedication_notify_email,
                "dedication_message": gift.dedication_message,
                "dedication_told_the_amount": gift.dedication_shows_amount,
                "note": gift.note,
                "asked_for_stories": gift.wants_impact_emails,
                "receipt_number": receipt_number(gift) if gift.is_paid else "",
            }
            for gift in gifts
        ],
        "receipts": [
            {
                "number": receipt_number(gift),
                "date": (gift.paid_at or gift.created_at).isoformat(),
                "project": gift.project.title,
                "amount_minor": gift.money.charged_minor,
                "given_minor": gift.money.given_minor,
                "currency": gift.currency,
            }
            for gift in gifts
            if gift.is_paid
        ],
        "monthly_gifts": [
            {
                "project": recurring.project.title,
                "amount_minor": recurring.amount_minor,
                "fee_covered_minor": recurring.fee_covered_minor,
                "currency": recurring.currency,
                "status": recurring.get_status_display(),
                "started_at": recurring.started_at.isoformat() if recurring.started_at else "",
                "cancelled_at": recurring.cancelled_at.isoformat() if recurring.cancelled_at else "",
                "cancellation_reason": recurring.cancellation_reason,
            }
            for recurring in holdings.monthly.select_related("project").order_by("created_at")
        ],
        "email_preferences": {
            "stories_about_what_gifts_pay_for": donor.wants_impact_emails,
            "stories_since": donor.impact_consent_at.isoformat() if donor.impact_consent_at else "",
            "receipts": "always sent",
        },
        "consent_history": [
            {
                "at": change.at.isoformat(),
                "stories": change.wants_impact_emails,
                "how": change.get_method_display(),
                "gift_receipt_number": receipt_number(change.gift)
                if change.gift and change.gift.is_paid
                else "",
            }
            for change in donor.consent_changes.select_related("gift").order_by("at", "pk")
        ],
        "emails_sent": [
            {"date": email.created_at.isoformat(), "kind": email.get_kind_display(), "to": email.to}
            for email in Email.objects.filter(donor=donor).order_by("created_at")
        ],
    }
    return data


def _csv(rows, header=None):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    if isinstance(rows, dict):
        writer.writerow(["field", "value"])
        writer.writerows(rows.items())
    else:
        header = header or (list(rows[0]) if rows else ["(none)"])
        writer.writerow(header)
        writer.writerows([row.get(h, "") for h in header] for row in rows)
    return buffer.getvalue()


def export_archive(donor):
    """A ZIP of my-data.json and one CSV per part."""
    from ledger.exports import safe_cell

    data = export_data(donor)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("my-data.json", json.dumps(data, indent=2, ensure_ascii=False))
        for part in ("profile", "gifts", "receipts", "monthly_gifts", "email_preferences", "consent_history"):
            rows = data[part]
            if isinstance(rows, dict):
                rows = {k: safe_cell(v) for k, v in rows.items()}
            else:
                rows = [{k: safe_cell(v) for k, v in row.items()} for row in rows]
            archive.writestr(f"{part.replace('_', '-')}.csv", _csv(rows))
    return buffer.getvalue()


def request_export(donor, *, by=None, reason=""):
    """Queue a download of the donor's data; the link is emailed when it is ready."""
    from donors import tasks

    with transaction.atomic():
        request = PrivacyRequest.objects.create(
            kind=PrivacyRequest.Kind.EXPORT,
            donor=donor,
            requested_by=by,
            reason=reason or "Asked on Manage my giving",
            confirmed_at=timezone.now(),
        )
        enqueue_on_commit(tasks.build_export, str(request.pk))
    return request


def build_export(request_id):
    """The task: build the archive, keep it until it expires, email the link."""
    with transaction.atomic():
        request = PrivacyRequest.objects.select_for_update().filter(pk=request_id).first()
        if request is None or request.status != PrivacyRequest.Status.QUEUED or request.donor is None:
            return None
        donor = request.donor
        request.archive = export_archive(donor)
        request.expires_at = timezone.now() + timezone.timedelta(days=settings.DATA_EXPORT_DAYS)
        request.status = PrivacyRequest.Status.DONE
        request.completed_at = timezone.now()
        request.summary = "Built a download of the donor's data and emailed them a link to it."
        request.save()
        Email.objects.queue(
            kind=Email.Kind.EXPORT_READY,
            key=f"export_ready:{request.pk}",
            to=donor.email,
            donor=donor,
            data={"request": str(request.pk)},
        )
    return str(request.pk)


def usable_export(request_id):
    return PrivacyRequest.objects.filter(
        pk=request_id,
        kind=PrivacyRequest.Kind.EXPORT,
        status=PrivacyRequest.Status.DONE,
        expires_at__gt=timezone.now(),
        archive__isnull=False,
    ).first()


# Erase me


def request_erasure(donor):
    """The donor asked on Manage my giving: email a link to confirm."""
    with transaction.atomic():
        request = PrivacyRequest.objects.create(
            kind=PrivacyRequest.Kind.ERASURE,
            status=PrivacyRequest.Status.AWAITING_CONFIRMATION,
            donor=donor,
            reason="Asked on Manage my giving",
        )
        Email.objects.queue(
            kind=Email.Kind.CONFIRM_ERASURE,
            key=f"confirm_erasure:{request.pk}",
            to=donor.email,
            donor=donor,
            data={"request": str(request.pk)},
        )
    return request


def confirm_erasure(request):
    """The donor followed the emailed link and confirmed, or staff erased with a reason."""
    from donors import tasks

    with transaction.atomic():
        updated = PrivacyRequest.objects.filter(
            pk=request.pk,
            kind=PrivacyRequest.Kind.ERASURE,
            status__in=[PrivacyRequest.Status.AWAITING_CONFIRMATION, PrivacyRequest.Status.FAILED],
        ).update(status=PrivacyRequest.Status.QUEUED, confirmed_at=timezone.now(), error="")
        if updated:
            enqueue_on_commit(tasks.erase_donor, str(request.pk))
    return bool(updated)


def erase_by_staff(donor, *, by, reason):
    request = PrivacyRequest.objects.create(
        kind=PrivacyRequest.Kind.ERASURE,
        status=PrivacyRequest.Status.AWAITING_CONFIRMATION,
        donor=donor,
        requested_by=by,
        reason=reason,
    )
    confirm_erasure(request)
    return request


class ErasureBlocked(Exception):
    """Stripe could not cancel a monthly gift: nothing was erased."""


def _cancel_monthly_gifts(holdings):
    """Cancel every running monthly gift at Stripe before anything is erased, so nobody is
    charged again with no way left to stop it. Returns how many were cancelled."""
    cancelled = 0
    running = holdings.monthly.filter(status__in=RecurringGift.RUNNING_STATUSES).exclude(
        stripe_subscription_id=None
    )
    for recurring in running:
        if settings.SIMULATED_CHECKOUT and recurring.stripe_subscription_id.startswith("sub_simulated_"):
            services.cancel_simulated_subscription(recurring, reason="cancellation_requested")
        else:
            try:
                stripe_gateway.cancel_subscription(
                    recurring.stripe_subscription_id, comment="The donor asked for their data to be erased."
                )
            except stripe_gateway.StripeUnavailable as exc:
                raise ErasureBlocked(
                    f"Monthly gift #{recurring.pk} could not be cancelled at Stripe: {exc}"
                ) from exc
        with transaction.atomic():
            locked = RecurringGift.objects.select_for_update().get(pk=recurring.pk)
            if locked.set_state(
                as_of=int(timezone.now().timestamp()),
                status=RecurringGift.Status.CANCELLED,
                reason="Cancelled: the donor asked for their data to be erased",
            ):
                locked.save()
        cancelled += 1
    return cancelled


def _apply(model_label, rows, holdings, counts):
    """Apply PERSONAL_DATA's rule for each field of `model_label` to these rows."""
    rules = PERSONAL_DATA[model_label]
    model = rows.model
    if any(rule.erase == DELETE for rule in rules.values()):
        counts[model_label] = rows.count()
        rows.delete()
        return
    changes, scrubbed = {}, []
    for name, rule in rules.items():
        field = model._meta.get_field(name)
        if rule.erase == UNLINK:
            changes[field.attname] = None
        elif rule.erase == ANONYMOUS:
            changes[name] = ANONYMOUS_DONOR
        elif rule.erase == BLANK:
            changes[name] = _empty(field)
        elif rule.erase == SCRUB:
            scrubbed.append(name)
    ids = list(rows.values_list("pk", flat=True))
    counts[model_label] = len(ids)
    if changes and ids:
        if any(f.name == "updated_at" for f in model._meta.concrete_fields):
            changes["updated_at"] = timezone.now()
        model._base_manager.filter(pk__in=ids).update(**changes)
    if scrubbed and ids:
        for row in model._base_manager.filter(pk__in=ids).only("pk", *scrubbed):
            for name in scrubbed:
                value = scrub(getattr(row, name), holdings.emails, holdings.names)
                if model_label == "auditlog.logentry" and isinstance(value, dict):
                    # Whatever a gift's personal fields held when the entry was written.
                    gift_fields = PERSONAL_DATA["donations.gift"].keys()
                    value = {k: ([ERASED, ERASED] if k in gift_fields else v) for k, v in value.items()}
                setattr(row, name, value)
            row.save(update_fields=scrubbed)


def _empty(field):
    if isinstance(field, models.BooleanField):
        return False
    if field.null:
        return None
    return ""


def _rows(holdings):
    """Each registered model's rows that belong to (or mention) the donor."""
    from auditlog.models import LogEntry
    from django_tasks_db.models import DBTaskResult

    donor = holdings.donor
    gift_ids = list(holdings.gifts.values_list("pk", flat=True))
    move_ids = list(GiftMove.objects.filter(gift_id__in=gift_ids).values_list("pk", flat=True))
    mentions = holdings.emails | holdings.stripe_ids()
    events = StripeEvent.objects.annotate(text=Cast("payload", models.TextField())).filter(
        _text_contains_any("text", mentions)
    )
    cts = ContentType.objects.get_for_models(Gift, GiftMove, RecurringGift, Donor)
    logs = LogEntry.objects.annotate(text=Cast("changes", models.TextField())).filter(
        Q(content_type=cts[Gift], object_pk__in=[str(i) for i in gift_ids])
        | Q(content_type=cts[GiftMove], object_pk__in=[str(i) for i in move_ids])
        | Q(content_type=cts[Donor], object_pk=str(donor.pk))
        | _text_contains_any("text", holdings.emails)
        | _text_contains_any("changes_text", holdings.emails)
    )
    tasks = DBTaskResult.objects.annotate(text=Cast("args_kwargs", models.TextField())).filter(
        _text_contains_any("text", holdings.emails)
    )
    return {
        "donations.gift": Gift.objects.filter(pk__in=gift_ids),
        "donations.recurringgift": holdings.monthly,
        "donations.giftmove": GiftMove.objects.filter(pk__in=move_ids),
        "campaigns.match": donor.matches.all(),
        "donations.stripeevent": events,
        "donors.email": Email.objects.filter(
            Q(donor=donor) | Q(gift_id__in=gift_ids) | _text_contains_any("to", holdings.emails)
        ),
        "donors.signinlink": SignInLink.objects.filter(donor=donor),
        "donors.consentchange": ConsentChange.objects.filter(donor=donor),
        "donors.privacyrequest": PrivacyRequest.objects.filter(donor=donor),
        "auditlog.logentry": logs,
        "django_tasks_database.dbtaskresult": tasks,
    }


def erase_donor(request_id):
    """The task: erase the donor of a confirmed request (see the module's docstring)."""
    request = PrivacyRequest.objects.filter(pk=request_id, status=PrivacyRequest.Status.QUEUED).first()
    if request is None or request.donor is None:
        return None
    holdings = Holdings.of(request.donor)
    try:
        cancelled = _cancel_monthly_gifts(holdings)
    except ErasureBlocked as exc:
        logger.error("Erasure %s stopped before erasing anything: %s", request.pk, exc)
        PrivacyRequest.objects.filter(pk=request.pk).update(
            status=PrivacyRequest.Status.FAILED, error=str(exc)
        )
        return None
    customers = holdings.customer_ids()
    counts = {}
    with transaction.atomic():
        donor = Donor.objects.select_for_update().filter(pk=request.donor_id).first()
        if donor is None:
            return None
        holdings = Holdings.of(donor)
        unsent = Email.objects.filter(donor=donor, status__in=[*Email.SENDABLE, Email.Status.SENDING])
        unsent.update(status=Email.Status.FAILED, last_error="Not sent: the donor's data was erased.")
        reason = scrub(request.reason, holdings.emails, holdings.names)
        for label, rows in _rows(holdings).items():
            _apply(label, rows, holdings, counts)
        for email in holdings.emails:
            SuppressedEmail.objects.get_or_create(digest=email_digest(email))
        donor.delete()
        gifts = counts.get("donations.gift", 0)
        n = {label.split(".")[1]: count for label, count in counts.items()}
        summary = (
            f"Erased one donor. {gifts} gift(s) kept as “{ANONYMOUS_DONOR}”: amounts, dates, projects, "
            f"fees, Stripe ids and receipt numbers unchanged. {cancelled} monthly gift(s) cancelled at "
            f"Stripe first. Removed the name and addresses from {n.get('email', 0)} email record(s), "
            f"{n.get('consentchange', 0)} consent change(s) and {n.get('signinlink', 0)} sign-in "
            f"link(s); redacted {n.get('stripeevent', 0)} Stripe event(s) and {n.get('logentry', 0)} "
            "audit entries. The address is kept only as a salted hash on the suppression list."
        )
        PrivacyRequest.objects.filter(pk=request.pk).update(
            status=PrivacyRequest.Status.DONE,
            completed_at=timezone.now(),
            summary=summary,
            reason=reason,
            donor=None,
            archive=None,
        )
        transaction.on_commit(_pages_changed)
        if customers:
            from donors import tasks

            enqueue_on_commit(tasks.delete_stripe_customers, str(request.pk), sorted(customers))
    return summary


def _pages_changed():
    from podari.page_cache import bump_content_version, bump_gifts_version

    bump_gifts_version()
    bump_content_version()


def delete_stripe_customers(request_id, customer_ids):
    """After the local erasure: delete the donor's Stripe customers. One that fails stays on
    the request for follow-up; the erasure stands either way."""
    failures = []
    for customer_id in customer_ids:
        if customer_id.startswith("cus_simulated_") or settings.SIMULATED_CHECKOUT:
            continue
        try:
            stripe_gateway.delete_customer(customer_id)
        except stripe_gateway.StripeUnavailable as exc:
            logger.error(
                "Could not delete Stripe customer %s for erasure %s: %s", customer_id, request_id, exc
            )
            failures.append(f"{customer_id}: {exc}")
    PrivacyRequest.objects.filter(pk=request_id).update(stripe_follow_up="\n".join(failures))
    return failures


def retry(request):
    """Staff's "Try again": a failed erasure runs again; Stripe customers left over are deleted."""
    from donors import tasks

    if request.kind == PrivacyRequest.Kind.ERASURE and request.status == PrivacyRequest.Status.FAILED:
        return confirm_erasure(request)
    leftover = [line.split(":", 1)[0] for line in request.stripe_follow_up.splitlines() if line.strip()]
    if leftover:
        tasks.delete_stripe_customers.enqueue(str(request.pk), leftover)
        return True
    return False
