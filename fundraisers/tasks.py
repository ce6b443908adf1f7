"""Background tasks of fundraiser pages (django-tasks), run by the worker."""

from datetime import timedelta

from django.conf import settings
from django.utils import timezone
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


@periodic(DIGEST_SECONDS)
@task()
def delete_old_sign_in_links():
    """Supporters' sign-in links are kept as long as donors' (RETENTION_SIGN_IN_DAYS), then
    deleted: a record of when someone asked to sign in is personal data with no further use."""
    from fundraisers.models import SupporterSignInLink

    try:
        cutoff = timezone.now() - timedelta(days=settings.RETENTION_SIGN_IN_DAYS)
        return SupporterSignInLink.objects.filter(created_at__lt=cutoff).delete()[0]
    finally:
        schedule_next(delete_old_sign_in_links, DIGEST_SECONDS)
