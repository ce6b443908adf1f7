"""Background tasks of the ledger (django-tasks): run by `manage.py run_worker`.

Cron or the host's scheduler runs the full `manage.py reconcile_stripe` (see the README),
or enqueues `reconcile_stripe`; the worker itself sweeps abandoned checkouts and finishes
matches that have ended."""

from datetime import timedelta

from django.conf import settings
from django_tasks import task

from ledger import reconciliation, services
from podari.periodic import periodic, schedule_next

# Stripe expires an unpaid Checkout Session 24 hours after it was made; an hour more lets
# its own `checkout.session.expired` event arrive first.
ABANDONED_CHECKOUT_AFTER = timedelta(hours=25)
SWEEP_SECONDS = 3600
# Pages stop offering an ended match at its end by themselves (content_cache); this only
# settles its money, so a minute's delay harms nothing.
MATCH_SWEEP_SECONDS = 60


@task()
def reconcile_stripe(repair=False, steps=None):
    """Reconcile the ledger with Stripe (ledger/reconciliation.py); returns the run's id,
    status and number of differences."""
    options = reconciliation.Options(
        repair=repair, steps=tuple(steps or reconciliation.STEPS), started_by="scheduled task"
    )
    run = reconciliation.reconcile(options)
    return {"run": run.pk, "status": run.status, "differences": run.summary.get("differences", 0)}


@periodic(SWEEP_SECONDS)
@task()
def sweep_abandoned_checkouts():
    """Gifts still pending after Stripe expired their checkout: asks Stripe about each and
    marks the expired ones abandoned (or records a payment whose webhook was lost)."""
    try:
        if not (settings.STRIPE_SECRET_KEY or settings.SIMULATED_CHECKOUT):
            return None  # no Stripe account to ask
        options = reconciliation.Options(
            repair=True,
            steps=("checkouts",),
            stale_after=ABANDONED_CHECKOUT_AFTER,
            started_by="worker: abandoned checkouts",
        )
        try:
            run = reconciliation.reconcile(options)
        except reconciliation.AlreadyRunning:
            return None  # that run looks at the same checkouts
        return {"run": run.pk, "status": run.status, "differences": run.summary.get("differences", 0)}
    finally:
        schedule_next(sweep_abandoned_checkouts, SWEEP_SECONDS)


@periodic(MATCH_SWEEP_SECONDS)
@task()
def finish_ended_matches():
    """Finish the matches whose end has passed, as staff's "finish" action does: a challenge
    met or missed, the unused remainder returned or given to the general fund. Two runs at
    once finish each match once (its row lock)."""
    try:
        return services.finish_ended_matches()
    finally:
        # Even after a failure, so that one bad match does not stop the schedule.
        schedule_next(finish_ended_matches, MATCH_SWEEP_SECONDS)
