"""Sending emails the site decided to send (donors.models.Email), at most once each.

A worker claims the emails with one UPDATE (status "sending" and its own claim id), sends
them over one connection, then records the outcome: one UPDATE for those sent and one for
those that failed, whatever their number. A failed email is tried again later, up to
len(EMAIL_RETRY_DELAYS) more times. An email never goes back to "waiting" by itself once
it was handed to the mail server, so nothing is sent twice; if a worker dies mid-send, its
emails stay "sending" in the admin for a person to check.
"""

import logging
import uuid

from django.conf import settings
from django.core.mail import get_connection
from django.db.models import F
from django.utils import timezone

from donors.emails import build_message
from donors.models import Email, enqueue_after_commit

logger = logging.getLogger(__name__)


def send(email_ids):
    """Send these emails if they are still waiting; returns how many were sent."""
    claim = uuid.uuid4()
    now = timezone.now()
    Email.objects.filter(pk__in=email_ids, status__in=Email.SENDABLE).update(
        status=Email.Status.SENDING, claim=claim, attempts=F("attempts") + 1, attempted_at=now
    )
    emails = list(
        Email.objects.filter(claim=claim, status=Email.Status.SENDING).select_related(
            "donor", "gift__project", "story"
        )
    )
    if not emails:
        return 0
    sent, failed = [], []
    try:
        with get_connection() as connection:
            for email in emails:
                try:
                    if connection.send_messages([build_message(email, connection=connection)]) != 1:
                        raise RuntimeError("The mail backend did not accept the message.")
                except Exception as exc:
                    logger.exception("Email %s (%s) failed", email.pk, email.kind)
                    email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                    failed.append(email)
                else:
                    sent.append(email)
    except Exception as exc:
        # The connection itself failed to open or close: emails not yet handled failed with it.
        logger.exception("Mail connection failed")
        handled = {e.pk for e in sent + failed}
        for email in emails:
            if email.pk not in handled:
                email.last_error = f"{type(exc).__name__}: {exc}"[:2000]
                failed.append(email)
    Email.objects.filter(pk__in=[e.pk for e in sent]).update(
        status=Email.Status.SENT, sent_at=timezone.now(), last_error="", claim=None
    )
    _record_failures(failed)
    return len(sent)


def _record_failures(failed):
    if not failed:
        return
    delays = settings.EMAIL_RETRY_DELAYS
    for email in failed:
        email.claim = None
        email.status = Email.Status.RETRYING if email.attempts <= len(delays) else Email.Status.FAILED
    Email.objects.bulk_update(failed, ["status", "last_error", "claim"])
    for email in failed:
        if email.status == Email.Status.RETRYING:
            schedule_retry(email.pk, delays[email.attempts - 1])


def schedule_retry(email_id, delay_seconds):
    from donors.tasks import send_emails

    task = send_emails
    if task.get_backend().supports_defer and delay_seconds:
        task = task.using(run_after=timezone.now() + timezone.timedelta(seconds=delay_seconds))
    task.enqueue([email_id])


def send_again(emails):
    """Staff asked: put failed (or stuck) emails back in the queue. Returns how many."""
    ids = [e.pk for e in emails if e.status != Email.Status.SENT]
    Email.objects.filter(pk__in=ids).exclude(status=Email.Status.SENT).update(
        status=Email.Status.PENDING, claim=None
    )
    for pk in ids:
        enqueue_after_commit([pk])
    return len(ids)
