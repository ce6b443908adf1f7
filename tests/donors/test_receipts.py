"""Receipts: one per paid gift, sent after commit from a task, retried when the mail server fails."""

import pytest
from django.core.management import call_command
from django.db import DatabaseError
from django.urls import reverse

from donations.models import Gift, Project, StripeEvent
from donors import models as donor_models
from donors.models import Email

pytestmark = pytest.mark.django_db


@pytest.fixture
def pending(project, make_pending_gift):
    return make_pending_gift(
        project, amount_minor=5_000, donor_email="ada@example.com", donor_name="Ada Lovelace"
    )


def pay(post_event, stripe_event, gift, name="checkout_session_completed", **fields):
    response = post_event(stripe_event(name, gift=gift, **fields))
    assert response.status_code == 200
    return response


def test_a_paid_gift_gets_one_receipt_in_text_and_html(
    settings,
    pending,
    post_event,
    stripe_event,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    from charity.models import Charity

    Charity.objects.update_or_create(
        pk=1,
        defaults=dict(
            legal_name="Podari Life Foundation Inc.",
            address="1 Main St\nBrooklyn, NY 11201",
            ein="12-3456789",
            tax_status="Podari Life Foundation is a 501(c)(3) nonprofit organization.",
        ),
    )

    with django_capture_on_commit_callbacks(execute=True):
        pay(post_event, stripe_event, pending)

    assert len(mailoutbox) == 1
    message = mailoutbox[0]
    assert message.to == ["ada@example.com"]
    gift = Gift.objects.get(pk=pending.pk)
    number = f"PL-{gift.paid_at.year}-{gift.pk:07d}"
    assert number in message.subject
    html = message.alternatives[0][0]
    assert message.alternatives[0][1] == "text/html"
    for text in (message.body, html):
        assert number in text
        assert "$50" in text
        assert "USD" in text
        assert "CAR-T therapy for children" in text
        assert "Podari Life Foundation Inc." in text
        assert "1 Main St" in text and "Brooklyn, NY 11201" in text
        assert "12-3456789" in text
        assert "Podari Life Foundation is a 501(c)(3) nonprofit organization." in text
        assert "No goods or services were provided" in text
        assert "Online payment through Stripe" in text
    email = Email.objects.get(kind=Email.Kind.RECEIPT)
    assert (email.status, email.attempts, email.gift_id) == (Email.Status.SENT, 1, gift.pk)
    # The gift is now tied to its donor, so "Manage my giving" finds it.
    assert gift.donor.email == "ada@example.com"


def test_the_receipt_is_sent_once_however_often_stripe_says_the_gift_was_paid(
    pending,
    post_event,
    stripe_event,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    completed = stripe_event("checkout_session_completed", gift=pending)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(completed).status_code == 200
        assert post_event(completed).status_code == 200  # the same delivery, replayed
        pay(post_event, stripe_event, pending, "checkout_session_async_payment_succeeded")
    with django_capture_on_commit_callbacks(execute=True):
        # A replay from the admin, after the event was processed.
        from donations.models import StripeEvent
        from donations.webhooks import process

        StripeEvent.objects.update(status=StripeEvent.Status.RECEIVED)
        for event in StripeEvent.objects.all():
            process(event)

    assert len(mailoutbox) == 1
    assert Email.objects.filter(kind=Email.Kind.RECEIPT).count() == 1


def test_no_receipt_before_the_transaction_commits(
    pending,
    post_event,
    stripe_event,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        pay(post_event, stripe_event, pending)
    assert mailoutbox == []
    assert callbacks  # waiting for the commit


def test_a_receipt_that_cannot_be_stored_undoes_the_payment_until_stripe_sends_it_again(
    pending, post_event, stripe_event, django_capture_on_commit_callbacks, mailoutbox, monkeypatch
):
    # The receipt is decided in the payment's own transaction: a gift is never left
    # paid with no receipt on its way.
    real_insert = donor_models.insert_unless_exists

    def database_fails_once(instance, field):
        monkeypatch.setattr(donor_models, "insert_unless_exists", real_insert)
        raise DatabaseError("the database went away")

    monkeypatch.setattr(donor_models, "insert_unless_exists", database_fails_once)
    completed = stripe_event("checkout_session_completed", gift=pending)

    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(completed).status_code == 500
    pending.refresh_from_db()
    assert pending.status == Gift.Status.PENDING
    assert Project.objects.get(pk=pending.project_id).raised_minor == 0
    assert StripeEvent.objects.get().status == StripeEvent.Status.FAILED
    assert mailoutbox == [] and not Email.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        pay(post_event, stripe_event, pending)  # Stripe's retry

    assert Gift.objects.get(pk=pending.pk).status == Gift.Status.SUCCEEDED
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]


def test_the_database_backend_stores_the_receipts_task_with_the_payment(
    settings, pending, post_event, stripe_event, django_capture_on_commit_callbacks, mailoutbox
):
    # Production's backend keeps its tasks in the database: the task row commits with the
    # payment, so no crash after the commit can leave the receipt waiting for nothing.
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

    with django_capture_on_commit_callbacks(execute=False):
        pay(post_event, stripe_event, pending)  # committed, but nothing run after the commit

    receipt = Email.objects.get(kind=Email.Kind.RECEIPT)
    [task] = DBTaskResult.objects.all()
    assert (task.task_path, task.args_kwargs) == (
        "donors.tasks.send_emails",
        {"args": [[receipt.pk]], "kwargs": {}},
    )
    assert mailoutbox == [] and receipt.status == Email.Status.PENDING


def test_a_receipt_that_fails_is_tried_again_and_sent_once(
    settings,
    flaky_mail,
    pending,
    post_event,
    stripe_event,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    settings.EMAIL_RETRY_DELAYS = [0, 0]
    flaky_mail(1)

    with django_capture_on_commit_callbacks(execute=True):
        pay(post_event, stripe_event, pending)

    assert len(mailoutbox) == 1
    email = Email.objects.get(kind=Email.Kind.RECEIPT)
    assert (email.status, email.attempts) == (Email.Status.SENT, 2)
    assert email.last_error == ""


def test_a_receipt_that_keeps_failing_is_given_up_and_shown_to_staff(
    settings,
    admin_client,
    flaky_mail,
    pending,
    post_event,
    stripe_event,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    settings.EMAIL_RETRY_DELAYS = [0, 0]
    flaky_mail(10)

    with django_capture_on_commit_callbacks(execute=True):
        pay(post_event, stripe_event, pending)

    email = Email.objects.get(kind=Email.Kind.RECEIPT)
    assert (email.status, email.attempts) == (Email.Status.FAILED, 3)
    assert "SMTP server not answering" in email.last_error
    assert mailoutbox == []

    page = admin_client.get(reverse("admin:donors_email_changelist") + "?status=failed")
    assert "ada@example.com" in page.content.decode()
    assert "SMTP server not answering" in page.content.decode()

    # Staff fix the mail server and send it again from the admin.
    flaky_mail(0)
    with django_capture_on_commit_callbacks(execute=True):
        admin_client.post(
            reverse("admin:donors_email_changelist"),
            {"action": "send_again", "_selected_action": [email.pk]},
        )
    email.refresh_from_db()
    assert email.status == Email.Status.SENT
    assert len(mailoutbox) == 1


def test_the_thank_you_page_says_a_receipt_was_sent_only_when_it_was(
    settings,
    client,
    flaky_mail,
    project,
    make_pending_gift,
    post_event,
    stripe_event,
    django_capture_on_commit_callbacks,
):
    from donations.views import SESSION_GIFTS_KEY

    settings.EMAIL_RETRY_DELAYS = []
    sent = make_pending_gift(project, donor_email="ada@example.com")
    failed = make_pending_gift(project, donor_email="bob@example.com")
    session = client.session
    session[SESSION_GIFTS_KEY] = [str(sent.public_id), str(failed.public_id)]
    session.save()

    with django_capture_on_commit_callbacks(execute=True):
        pay(post_event, stripe_event, sent, payment_intent="pi_sent")
    flaky_mail(1)
    with django_capture_on_commit_callbacks(execute=True):
        pay(post_event, stripe_event, failed, payment_intent="pi_failed")

    def thanks(gift):
        return client.get(
            reverse("donations:thanks"), {"session_id": gift.stripe_checkout_session_id}
        ).content.decode()

    assert "We have emailed you a receipt." in thanks(sent)
    page = thanks(failed)
    assert "Thank you" in page
    assert "receipt" not in page.lower()


def test_staff_can_resend_a_receipt(
    admin_client, project, paid_gift, make_donor, django_capture_on_commit_callbacks, mailoutbox
):
    gift = paid_gift(project, make_donor("ada@example.com"))
    unpaid = paid_gift(project, make_donor("bob@example.com"), status=Gift.Status.PENDING)

    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(
            reverse("admin:donations_gift_changelist"),
            {"action": "resend_receipts", "_selected_action": [gift.pk, unpaid.pk]},
        )

    assert response.status_code == 302
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]
    assert "Your receipt PL-" in mailoutbox[0].subject


def test_a_refund_sends_one_short_confirmation(
    project,
    pending,
    post_event,
    stripe_event,
    django_capture_on_commit_callbacks,
    mailoutbox,
):
    with django_capture_on_commit_callbacks(execute=True):
        pay(post_event, stripe_event, pending, payment_intent="pi_refund_me")
    pending.refresh_from_db()
    refund = stripe_event("charge_refunded", gift=pending, amount_refunded=2_000, refunded=False)
    with django_capture_on_commit_callbacks(execute=True):
        assert post_event(refund).status_code == 200
        assert post_event(refund).status_code == 200

    assert len(mailoutbox) == 2  # the receipt, then one refund confirmation
    confirmation = mailoutbox[1]
    assert "refunded" in confirmation.subject.lower()
    assert "$20" in confirmation.body and "$50" in confirmation.body


@pytest.mark.django_db(transaction=True)
def test_the_database_backend_sends_the_receipt_when_the_worker_runs(
    settings, flaky_mail, project, make_donor, paid_gift, mailoutbox
):
    """The production path: the task is stored, and `manage.py db_worker` sends it, retrying once."""
    from django_tasks_db.models import DBTaskResult

    from donations.signals import gift_paid

    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}
    settings.EMAIL_RETRY_DELAYS = [0]
    gift = paid_gift(project, make_donor("ada@example.com"))
    Email.objects.all().delete()  # the fixture's own receipt, to decide it below as a webhook does
    DBTaskResult.objects.all().delete()
    gift_paid.send(sender=Gift, gift=gift)

    assert mailoutbox == []
    assert DBTaskResult.objects.count() == 1
    flaky_mail(1)

    call_command("db_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0)

    assert len(mailoutbox) == 1
    assert mailoutbox[0].to == ["ada@example.com"]
    email = Email.objects.get(kind=Email.Kind.RECEIPT)
    assert (email.status, email.attempts) == (Email.Status.SENT, 2)
    assert DBTaskResult.objects.count() == 2  # the first try and its retry
    assert not DBTaskResult.objects.ready().exists()
