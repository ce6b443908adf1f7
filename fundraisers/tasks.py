"""Background tasks of fundraiser pages (django-tasks), run by the worker."""

from django_tasks import task

from podari.periodic import periodic, schedule_next

DIGEST_SECONDS = 24 * 3600


@task()
def send_supporter_email(to, template, subject, context):
    from fundraisers import emails

    emails.send(to=to, template=template, subject=subject, context=context)


@periodic(DIGEST_SECONDS)
@task()
def send_gift_digests():
    """Each owner's new gifts since their last digest, once a day in the worker. Safe to run
    twice: a digest covers only gifts paid since the owner's last one."""
    from fundraisers import digests

    try:
        return digests.send_all()
    finally:
        schedule_next(send_gift_digests, DIGEST_SECONDS)
