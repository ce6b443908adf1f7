"""Periodic tasks, run by the worker itself: no cron line to forget.

A periodic task queues its own next run when it finishes (`schedule_next`), and the worker
command (`manage.py run_worker`) queues every registered one that has no run waiting when
it starts. Two workers may start at once and queue two runs; the next check sees the other
run waiting and lets its chain end, so the chains merge again. The tasks themselves must be
safe to run twice at the same time.
"""

from datetime import timedelta

from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

PERIODIC = {}  # task -> seconds between runs


def periodic(seconds):
    """Register a django-tasks task to run every `seconds` under the database backend."""

    def register(task):
        PERIODIC[task] = seconds
        return task

    return register


def _uses_database(task):
    from django_tasks_db.backend import DatabaseBackend

    return isinstance(task.get_backend(), DatabaseBackend)


def _waiting(task):
    from django_tasks.base import TaskResultStatus
    from django_tasks_db.models import DBTaskResult

    return DBTaskResult.objects.filter(task_path=task.module_path, status=TaskResultStatus.READY).exists()


def schedule_next(task, seconds):
    """Queue the task's next run, unless one is waiting already.

    Only the database backend runs deferred tasks; the immediate one (DEBUG) would run it
    again at once, forever.
    """
    if not _uses_database(task) or _waiting(task):
        return None
    return task.using(run_after=timezone.now() + timedelta(seconds=seconds)).enqueue()


def ensure_scheduled():
    """Queue a first run of each periodic task that has none waiting; returns their paths."""
    autodiscover_modules("tasks")
    started = []
    for task in PERIODIC:
        if _uses_database(task) and not _waiting(task):
            task.enqueue()
            started.append(task.module_path)
    return started
