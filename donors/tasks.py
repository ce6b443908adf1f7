"""Background tasks (django-tasks): run by `manage.py db_worker`, or at once with DEBUG."""

from django_tasks import task

from donors import impact, mailer


@task()
def send_emails(email_ids):
    """Send the given emails that still wait (a list of ids: one receipt, or a batch)."""
    return mailer.send(email_ids)


@task()
def announce_story(story_id):
    """Email a story that has gone live to the donors who asked for such news."""
    return impact.announce(story_id)


@task()
def send_sign_in_link(email):
    """A "Manage my giving" link for whoever gave with this address (nobody, perhaps)."""
    from donors.views import send_sign_in_link

    link = send_sign_in_link(email)
    return None if link is None else str(link.pk)
