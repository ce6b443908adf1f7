"""Background tasks of giving (django-tasks): run by `manage.py db_worker`."""

from django_tasks import task

from donations import webhooks


@task()
def apply_waiting_events():
    """The sweep: apply stored refunds, disputes and invoice payments whose payment has
    been recorded since (by a path that did not look for them). Returns (applied, waiting)."""
    return webhooks.apply_all_waiting()
