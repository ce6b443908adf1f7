"""Reconcile the ledger with Stripe (see ledger/reconciliation.py and the README).

manage.py reconcile_stripe                    # a dry run: lists what differs, changes nothing
manage.py reconcile_stripe --repair           # applies what Stripe says, tagged with the run
manage.py reconcile_stripe --steps events,checkouts --stale-after-minutes 0
manage.py reconcile_stripe --since 2026-03-01 --until 2026-03-08   # that week's balance
"""

from datetime import datetime, time, timedelta

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.urls import reverse
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from ledger import reconciliation
from ledger.models import ReconciliationRun


def moment(text):
    """A date (midnight, the site's time zone) or an ISO date and time."""
    try:
        parsed = parse_datetime(text) or (
            datetime.combine(parse_date(text), time()) if parse_date(text) else None
        )
    except ValueError:
        parsed = None
    if parsed is None:
        raise CommandError(f"“{text}” is not a date (2026-03-01) or a date and time (2026-03-01T06:00).")
    return timezone.make_aware(parsed) if timezone.is_naive(parsed) else parsed


def steps(text):
    chosen = tuple(step.strip() for step in text.split(",") if step.strip())
    unknown = [step for step in chosen if step not in reconciliation.STEPS]
    if unknown or not chosen:
        raise CommandError(f"Steps are a comma-separated choice of {', '.join(reconciliation.STEPS)}.")
    # In their own order, whatever order they were given in.
    return tuple(step for step in reconciliation.STEPS if step in chosen)


def whole_number(text):
    if not text.isdigit():
        raise CommandError(f"“{text}” is not a whole number.")
    return int(text)


class Command(BaseCommand):
    help = (
        "Compare the ledger with Stripe: undelivered events, gifts and monthly gifts open too long, "
        "balance transactions, fees and payouts. A dry run unless --repair."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--repair", action="store_true", help="Apply what Stripe says (default: only list)."
        )
        parser.add_argument(
            "--since",
            help="List undelivered events from this date or time instead of the checkpoint, and start "
            "the balance window there (default: yesterday).",
        )
        parser.add_argument("--until", help="End of the balance window (default: the end of its first day).")
        parser.add_argument(
            "--steps",
            default=",".join(reconciliation.STEPS),
            help="Which steps, comma-separated (default: all).",
        )
        parser.add_argument(
            "--stale-after-minutes", default="60", help="Look up pending gifts older than this (default 60)."
        )
        parser.add_argument(
            "--monthly-grace-days",
            default="35",
            help="Look up monthly gifts with no payment for this long (default 35).",
        )
        parser.add_argument(
            "--started-by", default="", help="Who or what started the run, for the Finance page."
        )

    def handle(self, *args, **options):
        if not settings.STRIPE_SECRET_KEY and not settings.SIMULATED_CHECKOUT:
            raise CommandError(
                "Stripe is not configured: set STRIPE_SECRET_KEY (or DEBUG=1 for the simulated checkout)."
            )
        run_options = reconciliation.Options(
            repair=options["repair"],
            steps=steps(options["steps"]),
            since=moment(options["since"]) if options["since"] else None,
            until=moment(options["until"]) if options["until"] else None,
            stale_after=timedelta(minutes=whole_number(options["stale_after_minutes"])),
            monthly_grace=timedelta(days=whole_number(options["monthly_grace_days"])),
            started_by=options["started_by"] or "manage.py reconcile_stripe",
        )
        try:
            run = reconciliation.reconcile(run_options)
        except (reconciliation.AlreadyRunning, ValueError) as exc:
            raise CommandError(str(exc)) from exc
        self.report(run)
        if run.status == ReconciliationRun.Status.INTERRUPTED:
            stopped = run.summary.get("stopped", {})
            raise CommandError(
                f"{run} stopped in step “{stopped.get('step')}”: {stopped.get('reason')} "
                "The next run resumes where it stopped."
            )

    def report(self, run):
        for step, counts in run.summary.get("steps", {}).items():
            found = (
                ", ".join(f"{name.replace('_', ' ')} {n}" for name, n in sorted(counts.items())) or "nothing"
            )
            self.stdout.write(f"{step}: {found}")
        for difference in run.differences.order_by("pk"):
            mark = "repaired" if difference.repaired else difference.get_kind_display()
            self.stdout.write(f"- [{mark}] {difference.description}")
        url = settings.SITE_URL + reverse("ledger_reconciliation_run", args=[run.pk])
        total = run.summary.get("differences", 0)
        kind = "Repair" if run.repair else "Dry run"
        self.stdout.write(self.style.SUCCESS(f"{kind} {run.pk}: {total} difference(s). Finance page: {url}"))
