"""Background tasks of the ledger (django-tasks): run by `manage.py db_worker`.

The project has no scheduler of its own: cron or the host's scheduler runs
`manage.py reconcile_stripe` (see the README), or enqueues this task."""

from django_tasks import task

from ledger import reconciliation


@task()
def reconcile_stripe(repair=False, steps=None):
    """Reconcile the ledger with Stripe (ledger/reconciliation.py); returns the run's id,
    status and number of differences."""
    options = reconciliation.Options(
        repair=repair, steps=tuple(steps or reconciliation.STEPS), started_by="scheduled task"
    )
    run = reconciliation.reconcile(options)
    return {"run": run.pk, "status": run.status, "differences": run.summary.get("differences", 0)}
