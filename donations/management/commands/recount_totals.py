from django.core.management.base import BaseCommand

from donations.models import Project


class Command(BaseCommand):
    help = "Recount every project's stored total from its gifts (after bulk loads or hand repairs)."

    def handle(self, *args, **options):
        updated = Project.objects.recount_totals()
        self.stdout.write(f"Recounted the totals of {updated} project(s).")
