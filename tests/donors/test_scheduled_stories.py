"""Scheduled stories are emailed by the worker's periodic task when they go live: no
command to run, each story once, and the story admin says what will happen and what did."""

import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from django.utils import timezone
from django_tasks.base import TaskResultStatus

from donors.models import Email, StoryAnnouncement
from donors.tasks import send_due_impact_emails
from stories.models import Story
from tests.conftest import image_upload

DATABASE_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def run_worker():
    call_command(
        "run_worker", "--batch", "--no-startup-delay", "--no-reload", verbosity=0, stdout=io.StringIO()
    )


def waiting_sweeps():
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(
        task_path=send_due_impact_emails.module_path, status=TaskResultStatus.READY
    )


@pytest.fixture
def scheduled_story(make_story, make_donor, paid_gift, project):
    paid_gift(project, make_donor("ada@example.com", consent=True))
    return make_story(
        projects=[project],
        image=image_upload("story.png", size=(1000, 600)),
        status=Story.Status.PUBLISHED,
        publish_at=timezone.now() + timezone.timedelta(hours=2),
    )


@pytest.mark.django_db(transaction=True)
def test_the_worker_emails_a_scheduled_story_once_when_it_goes_live(settings, scheduled_story, mailoutbox):
    from django_tasks_db.models import DBTaskResult

    settings.TASKS = DATABASE_TASKS
    DBTaskResult.objects.all().delete()
    mailoutbox.clear()  # the gift's receipt

    run_worker()  # starts the sweep; the story is not live yet
    assert mailoutbox == []
    assert waiting_sweeps().count() == 1

    # Two hours later, with nobody saving the story or running a command.
    Story.objects.filter(pk=scheduled_story.pk).update(
        publish_at=timezone.now() - timezone.timedelta(minutes=1)
    )
    waiting_sweeps().update(run_after=timezone.now())
    run_worker()
    assert [m.to for m in mailoutbox] == [["ada@example.com"]]

    # A second worker starting, and later sweeps, send nothing more and keep one sweep waiting.
    waiting_sweeps().update(run_after=timezone.now())
    run_worker()
    run_worker()
    assert len(mailoutbox) == 1
    assert waiting_sweeps().count() == 1


@pytest.mark.django_db
def test_two_sweeps_at_once_announce_a_story_once(
    scheduled_story, django_capture_on_commit_callbacks, mailoutbox
):
    mailoutbox.clear()
    Story.objects.filter(pk=scheduled_story.pk).update(publish_at=timezone.now())
    with django_capture_on_commit_callbacks(execute=True):
        send_due_impact_emails.call()
        send_due_impact_emails.call()
    assert StoryAnnouncement.objects.filter(story=scheduled_story).count() == 1
    assert Email.objects.for_story(scheduled_story).count() == 1
    assert len(mailoutbox) == 1


@pytest.mark.django_db
def test_the_immediate_backend_schedules_no_next_sweep(scheduled_story):
    # With DEBUG's immediate backend a deferred run would run at once, again and again.
    assert send_due_impact_emails.call() == {}


@pytest.mark.django_db
def test_the_story_admin_says_when_it_will_be_and_was_emailed(
    admin_client, scheduled_story, django_capture_on_commit_callbacks
):
    url = reverse("admin:stories_story_change", args=[scheduled_story.pk])
    when = timezone.localtime(scheduled_story.publish_at).strftime("%b %d, %Y at %H:%M")
    assert f"Will be emailed to 1 donor when it goes live ({when})." in admin_client.get(url).content.decode()

    Story.objects.filter(pk=scheduled_story.pk).update(publish_at=timezone.now())
    assert (
        "Live now: will be emailed to 1 donor within a few minutes." in admin_client.get(url).content.decode()
    )

    with django_capture_on_commit_callbacks(execute=True):
        send_due_impact_emails.call()
    sent_on = timezone.localtime(StoryAnnouncement.objects.get().announced_at).strftime("%b %d, %Y at %H:%M")
    assert f"Emailed to 1 donor on {sent_on}." in admin_client.get(url).content.decode()


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    connection.vendor != "postgresql",
    reason="two writers at once: PostgreSQL only (SQLite refuses the second)",
)
def test_two_workers_sweeping_at_the_same_moment_email_each_donor_once(settings, scheduled_story, mailoutbox):
    import threading

    settings.TASKS = DATABASE_TASKS
    Story.objects.filter(pk=scheduled_story.pk).update(publish_at=timezone.now())
    barrier = threading.Barrier(2)
    results = []

    def sweep():
        try:
            barrier.wait()
            results.append(send_due_impact_emails.call())
        finally:
            connection.close()  # this thread's own connection, or the test database stays in use

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.get(str(scheduled_story.pk), 0) for r in results) == [0, 1]
    assert StoryAnnouncement.objects.filter(story=scheduled_story).count() == 1
    assert Email.objects.for_story(scheduled_story).count() == 1
