"""Impact emails: a story that goes live is emailed once to each donor who asked for such
news and gave to a project the story reports on."""

from itertools import islice

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from donations.models import Donor, Gift
from donors.models import Email, StoryAnnouncement, enqueue_after_commit, enqueue_on_commit
from stories.models import Story


def batched(items, size):
    iterator = iter(items)
    while batch := list(islice(iterator, size)):
        yield batch


def recipients(story):
    """Donors who consented and gave (a paid gift that still counts) to one of the story's projects."""
    gave = Gift.objects.counted().filter(project__stories=story, donor__isnull=False).values("donor")
    return Donor.objects.filter(wants_impact_emails=True, pk__in=gave)


def not_yet_emailed(story):
    already = Email.objects.for_story(story).filter(donor__isnull=False).values("donor")
    return recipients(story).exclude(pk__in=already)


def email_key(story_id, donor_id):
    return f"impact:{story_id}:{donor_id}"


def announce(story_id):
    """Queue the story's email for every recipient, the first time it is live; returns how many.

    A story is announced once, when it first goes live: saving it again later (a typo
    fixed, a project added) emails no one. Safe to run any number of times (each save,
    the periodic command), and the unique key per story and donor decides once anyway.
    Batches of EMAIL_BATCH_SIZE make one task each, so the queries grow with the number
    of batches, not of donors.
    """
    story = Story.objects.filter(pk=story_id).first()
    if story is None or not story.is_public:
        return 0
    queued = 0
    with transaction.atomic():
        _, first_time = StoryAnnouncement.objects.get_or_create(story=story)
        if not first_time:
            return 0
        donors = list(not_yet_emailed(story).order_by("pk").values_list("pk", "email"))
        for batch in batched(donors, settings.EMAIL_BATCH_SIZE):
            Email.objects.bulk_create(
                [
                    Email(
                        kind=Email.Kind.IMPACT,
                        key=email_key(story.pk, pk),
                        to=address,
                        donor_id=pk,
                        story=story,
                    )
                    for pk, address in batch
                ],
                ignore_conflicts=True,
            )
            ids = list(
                Email.objects.for_story(story)
                .filter(donor_id__in=[pk for pk, _ in batch], status=Email.Status.PENDING)
                .values_list("pk", flat=True)
            )
            enqueue_after_commit(ids)
            queued += len(ids)
    return queued


def announce_after_commit(story):
    """Announce the story from a task once the transaction that published it commits."""
    from donors.tasks import announce_story

    if story.status != Story.Status.PUBLISHED:
        return
    story_id = story.pk
    task = announce_story
    if not story.is_public:
        # Scheduled: run when it goes live (the database backend waits for run_after;
        # `manage.py send_impact_emails` catches it otherwise).
        if not task.get_backend().supports_defer:
            return
        task = task.using(run_after=story.publish_at)
    enqueue_on_commit(task, story_id)


def announce_due():
    """Stories that are live and were never announced (scheduled ones whose time came)."""
    due = Story.objects.published().filter(announcement__isnull=True).values_list("pk", flat=True)
    return {pk: announce(pk) for pk in due}


def _when(moment):
    return timezone.localtime(moment).strftime("%b %d, %Y at %H:%M")


def summary(story):
    """What the story admin tells staff about the story's emails, before and after."""
    if story.pk is None:
        return "Save the story with its projects to see how many donors it will be emailed to."
    announcement = StoryAnnouncement.objects.filter(story=story).first()
    if announcement is not None:
        counts = dict(
            Email.objects.for_story(story)
            .values_list("status")
            .annotate(n=models.Count("*"))
            .values_list("status", "n")
        )
        sent = counts.pop(Email.Status.SENT, 0)
        text = f"Emailed to {sent} donor{'' if sent == 1 else 's'} on {_when(announcement.announced_at)}."
        waiting = sum(n for status, n in counts.items() if status != Email.Status.FAILED)
        if waiting:
            text += f" {waiting} still being sent."
        if counts.get(Email.Status.FAILED):
            text += f" {counts[Email.Status.FAILED]} failed (see Donors → Emails)."
        return text
    n = recipients(story).count()
    donors = f"{n} donor{'' if n == 1 else 's'}"
    if story.status == Story.Status.PUBLISHED and not story.is_public:
        return f"Will be emailed to {donors} when it goes live ({_when(story.publish_at)})."
    if story.is_public:
        # Live, and the worker's next sweep (IMPACT_EMAIL_SWEEP_SECONDS) has not run yet.
        return f"Live now: will be emailed to {donors} within a few minutes."
    return f"Will be emailed to {donors} when it is published (donors who asked for news of its projects)."
