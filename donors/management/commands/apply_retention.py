"""`manage.py apply_retention [--dry-run]`: delete personal data past its period (daily, from cron).

The periods are settings (RETENTION_*, DATA_EXPORT_DAYS, FINANCIAL_RECORDS_YEARS; see the
README and donors/retention.py). Safe to run any number of times.
"""

from django.core.management.base import BaseCommand
from django.db import transaction

from donors.retention import PERIODS, apply_retention


class DryRun(Exception):
    pass


class Command(BaseCommand):
    help = "Delete or anonymise personal data kept longer than its retention period."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")

    def handle(self, *args, dry_run=False, **options):
        try:
            with transaction.atomic():
                done = apply_retention()
                if dry_run:
                    raise DryRun
        except DryRun:
            pass
        verb = "Would apply" if dry_run else "Applied"
        self.stdout.write(f"{verb} retention ({', '.join(f'{p.setting}={p.length}' for p in PERIODS)}):")
        for what, count in done.items():
            self.stdout.write(f"  {what}: {count}")
