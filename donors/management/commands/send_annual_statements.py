from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from donors import statements


class Command(BaseCommand):
    help = (
        "Email each donor one summary of their gifts in a year. Safe to run twice: a donor "
        "who was sent the year's statement is not sent another."
    )

    def add_arguments(self, parser):
        parser.add_argument("--year", type=int, required=True, help="The calendar year, e.g. 2026.")
        parser.add_argument("--dry-run", action="store_true", help="Say who would get one; send nothing.")

    def handle(self, *, year, dry_run, **options):
        if not 2000 <= year <= timezone.now().year:
            raise CommandError(f"{year} is not a year with gifts to sum up.")
        due = statements.pending_donors(year)
        if dry_run:
            total = statements.donors_for_year(year).count()
            count = due.count()
            self.stdout.write(
                f"Dry run: {count} donor(s) would be sent a {year} statement "
                f"({total - count} of {total} were sent one already). Nothing was sent."
            )
            return
        queued = statements.queue_statements(year)
        self.stdout.write(f"Queued {queued} {year} statement(s); they are sent by the task worker.")
