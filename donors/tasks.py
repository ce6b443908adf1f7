"""Background tasks (django-tasks): run by `manage.py db_worker`, or at once with DEBUG."""

from django.conf import settings
from django_tasks import task

from donors import impact, mailer
from podari.periodic import periodic, schedule_next


@task()
def send_emails(email_ids):
    """Send the given emails that still wait (a list of ids: one receipt, or a batch)."""
    return mailer.send(email_ids)


@task()
def announce_story(story_id):
    """Email a story that has gone live to the donors who asked for such news."""
    return impact.announce(story_id)


@periodic(settings.IMPACT_EMAIL_SWEEP_SECONDS)
@task()
def send_due_impact_emails():
    """Email the stories that went live since the last run (scheduled ones whose time came).

    Runs every IMPACT_EMAIL_SWEEP_SECONDS in the worker. Two runs at once email no one twice:
    each story is announced once (its StoryAnnouncement row) and each email has a unique key.
    """
    try:
        return {str(story_id): queued for story_id, queued in impact.announce_due().items()}
    finally:
        # Even after a failure, so that one bad story does not stop the schedule.
        schedule_next(send_due_impact_emails, settings.IMPACT_EMAIL_SWEEP_SECONDS)


@task()
def send_sign_in_link(email):
    """A "Manage my giving" link for whoever gave with this address (nobody, perhaps)."""
    from donors.views import send_sign_in_link

    link = send_sign_in_link(email)
    return None if link is None else str(link.pk)


@task()
def build_export(request_id):
    """A donor's data as a download (JSON and CSV), and the email with its link."""
    from donors import privacy

    return privacy.build_export(request_id)


@task()
def erase_donor(request_id):
    """Erase the donor of a confirmed request (donors/privacy.py)."""
    from donors import privacy

    return privacy.erase_donor(request_id)


@task()
def delete_stripe_customers(request_id, customer_ids):
    """After an erasure: the donor's Stripe customers; failures stay on the request."""
    from donors import privacy

    return privacy.delete_stripe_customers(request_id, customer_ids)


@task()
def apply_retention():
    """Personal data past its retention period (donors/retention.py), for a scheduler that runs tasks."""
    from donors.retention import apply_retention

    return apply_retention()
