"""Background tasks of fundraiser pages (django-tasks): run by `manage.py db_worker`."""

from django_tasks import task


@task()
def send_supporter_email(to, template, subject, context):
    from fundraisers import emails

    emails.send(to=to, template=template, subject=subject, context=context)


@task()
def send_gift_digests():
    """Each owner's new gifts since their last digest (scheduled: see the Procfile)."""
    from fundraisers import digests

    return digests.send_all()
