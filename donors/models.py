import uuid

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone
from django_tasks_db import DatabaseBackend

from donations.models import Donor, Gift
from podari.db import insert_unless_exists
from stories.models import Story


class EmailQuerySet(models.QuerySet):
    def queue(self, *, kind, key, to, **fields):
        """Decide to send an email, once per key ever, and send it from a task after commit.

        The row with its unique key is the decision: a second call with the same key (a
        replayed webhook, a command run twice) finds it and sends nothing. Returns the new
        email, or None when it was decided before. In a transaction or alone.
        """
        email = self.model(kind=kind, key=key, to=to, **fields)
        if not insert_unless_exists(email, "key"):
            return None
        enqueue_after_commit([email.pk])
        return email

    def for_story(self, story):
        return self.filter(kind=Email.Kind.IMPACT, story=story)


class Email(models.Model):
    """One email the site decided to send, and what became of it. Visible to staff."""

    class Kind(models.TextChoices):
        RECEIPT = "receipt", "Receipt"
        REFUND = "refund", "Refund confirmation"
        STATEMENT = "statement", "Year-end statement"
        IMPACT = "impact", "Impact story"
        SIGN_IN = "sign_in", "Manage-my-giving link"
        PAYMENT_FAILED = "payment_failed", "Monthly payment failed"
        CONFIRM_STORIES = "confirm_stories", "Confirm stories after an unsubscribe"
        EXPORT_READY = "export_ready", "Their data, ready to download"
        CONFIRM_ERASURE = "confirm_erasure", "Confirm an erasure"
        MONTHLY_CANCELLED = "monthly_cancelled", "Monthly gift cancelled"
        DEDICATION = "dedication", "A dedication, to the honoree's family"

    class Status(models.TextChoices):
        PENDING = "pending", "Waiting to be sent"
        SENDING = (
            "sending",
            "Being sent (if it stays so, the worker stopped mid-send: check before resending)",
        )
        SENT = "sent", "Sent"
        RETRYING = "retrying", "Failed, will be tried again"
        FAILED = "failed", "Failed, given up"

    # States a worker may pick the email up in.
    SENDABLE = (Status.PENDING, Status.RETRYING)

    key = models.CharField(max_length=255, unique=True, help_text="What makes this email one of a kind.")
    kind = models.CharField(max_length=20, choices=Kind.choices, db_index=True)
    to = models.EmailField()
    donor = models.ForeignKey(Donor, on_delete=models.SET_NULL, null=True, blank=True, related_name="emails")
    gift = models.ForeignKey(Gift, on_delete=models.SET_NULL, null=True, blank=True, related_name="emails")
    story = models.ForeignKey(Story, on_delete=models.SET_NULL, null=True, blank=True, related_name="emails")
    # What else the email needs: the refunded amount, the statement's year, a sign-in link's id.
    data = models.JSONField(default=dict, blank=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)
    # The worker that took it: claiming is one UPDATE, so two workers never send one email.
    claim = models.UUIDField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempted_at = models.DateTimeField(null=True, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    objects = EmailQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.get_kind_display()} to {self.to}"


def enqueue_after_commit(email_ids):
    """One task sends these emails once the transaction that decided them has committed."""
    from donors.tasks import send_emails

    if email_ids:
        enqueue_on_commit(send_emails, list(email_ids))


def enqueue_on_commit(task, *args):
    """Have `task` run with `args` if, and once, the current transaction commits.

    The database backend (production's) stores a task as a row: written in this
    transaction, it commits with the rows the task will read or is undone with them, so
    a worker that dies just after the commit cannot lose it, and there is no second
    commit to wait for. Other backends live outside the database (the immediate one
    runs the task at once), so they are called after the commit.
    """
    if isinstance(task.get_backend(), DatabaseBackend):
        task.enqueue(*args)
    else:
        transaction.on_commit(lambda: task.enqueue(*args))


class SignInLink(models.Model):
    """A "manage my giving" link sent to a donor: works once, for a limited time."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    donor = models.ForeignKey(Donor, on_delete=models.CASCADE, related_name="sign_in_links")
    created_at = models.DateTimeField(default=timezone.now)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self):
        return f"Sign-in link for {self.donor}"

    @property
    def expires_at(self):
        return self.created_at + timezone.timedelta(seconds=settings.DONOR_LINK_MAX_AGE_SECONDS)

    def use(self):
        """Mark the link used; False if it was used already (by another click, at the same time)."""
        now = timezone.now()
        claimed = SignInLink.objects.filter(pk=self.pk, used_at__isnull=True).update(used_at=now)
        self.used_at = now
        return claimed == 1


class StoryAnnouncement(models.Model):
    """A story whose impact emails were sent: found by `manage.py send_impact_emails`."""

    story = models.OneToOneField(
        Story, on_delete=models.CASCADE, primary_key=True, related_name="announcement"
    )
    announced_at = models.DateTimeField(default=timezone.now)

    def __str__(self):
        return f"Impact emails for {self.story}"


class ConsentChange(models.Model):
    """One change to a donor's consent to impact emails: when, how, and from which gift or link.

    Consent is given only by the donor: the donate form's tick counts once its gift is paid,
    and never over an unsubscribe unless the donor confirms through a link emailed to the
    address (see donors/consent.py). Every change, on or off, is a row here.
    """

    class Method(models.TextChoices):
        DONATE_FORM = "donate_form", "Ticked on the donate form, applied when the gift was paid"
        CONFIRMATION_LINK = "confirmation_link", "Confirmed through a link emailed to the address"
        PREFERENCES = "preferences", "Email preferences page"
        UNSUBSCRIBE_LINK = "unsubscribe_link", "Unsubscribe link, in a browser"
        ONE_CLICK = "one_click", "One-click unsubscribe, from the mail program"
        BEFORE_LOG = "before_log", "Recorded before this log was kept"

    donor = models.ForeignKey(Donor, on_delete=models.CASCADE, related_name="consent_changes")
    wants_impact_emails = models.BooleanField("stories wanted")
    method = models.CharField(max_length=20, choices=Method.choices)
    gift = models.ForeignKey(
        Gift, on_delete=models.SET_NULL, null=True, blank=True, related_name="+", help_text="The gift ticked."
    )
    # The confirmation email whose link was followed.
    email = models.ForeignKey(Email, on_delete=models.SET_NULL, null=True, blank=True, related_name="+")
    at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-at", "-pk"]
        verbose_name = "consent change"

    def __str__(self):
        return f"Stories {'on' if self.wants_impact_emails else 'off'}: {self.get_method_display()}"


class SuppressedEmail(models.Model):
    """An address erased on request, kept only as a salted hash (donors/privacy.py), so that
    its owner's unsubscribe stays honoured: a later gift's tick only sends a link to confirm."""

    digest = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = "suppressed address (a salted hash)"
        verbose_name_plural = "suppressed addresses (salted hashes)"

    def __str__(self):
        return f"Suppressed address {self.digest[:12]}…"


class PrivacyRequest(models.Model):
    """A donor's request for their data or for erasure, from *Manage my giving* or a member of
    staff, and what was done. Once a donor is erased the row says what was done, not to whom."""

    class Kind(models.TextChoices):
        EXPORT = "export", "Download of their data"
        ERASURE = "erasure", "Erasure"

    class Status(models.TextChoices):
        AWAITING_CONFIRMATION = "awaiting", "Waiting for the donor to confirm by the emailed link"
        QUEUED = "queued", "Queued"
        DONE = "done", "Done"
        FAILED = "failed", "Failed: nothing erased (see the error; try again)"
        EXPIRED = "expired", "Done; the download has expired and is deleted"

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    kind = models.CharField(max_length=10, choices=Kind.choices)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED, db_index=True)
    donor = models.ForeignKey(
        Donor, on_delete=models.SET_NULL, null=True, blank=True, related_name="privacy_requests"
    )
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        help_text="Empty when the donor asked on Manage my giving.",
    )
    reason = models.TextField(blank=True, help_text="Why, in staff's words. Name no donor here.")
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    confirmed_at = models.DateTimeField(null=True, blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    summary = models.TextField(blank=True, help_text="What was done, in counts: never to whom.")
    error = models.TextField(blank=True)
    # Stripe customers that could not be deleted yet, one "cus_…: error" a line: the local
    # erasure is done; these wait for "Try again".
    stripe_follow_up = models.TextField("Stripe follow-up", blank=True)
    # The download: a ZIP of JSON and CSV, deleted when it expires.
    archive = models.BinaryField(null=True, blank=True, editable=False)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        permissions = [
            ("export_donor_data", "Can send a donor their data on request"),
            ("erase_donor", "Can erase a donor on request"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} of {self.created_at:%Y-%m-%d}: {self.get_status_display()}"
