from django.core.management.base import BaseCommand, CommandError

from ledger.audit import differences


class Command(BaseCommand):
    help = (
        "Recompute every stored money figure (gift nets, project totals, monthly sums, uses "
        "of funds) from the ledger's entries and list what differs. Fails if anything does."
    )

    def handle(self, *args, **options):
        found = differences()
        for difference in found:
            self.stdout.write(str(difference))
        if found:
            raise CommandError(
                f"{len(found)} difference(s) between the ledger and its stored sums. "
                "`manage.py recount_totals` rebuilds project totals and monthly sums from the gifts."
            )
        self.stdout.write(self.style.SUCCESS("The ledger and every stored figure agree: 0 differences."))
