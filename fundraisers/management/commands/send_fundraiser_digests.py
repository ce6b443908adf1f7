from django.core.management.base import BaseCommand

from fundraisers import digests


class Command(BaseCommand):
    help = "Email each fundraiser page's owner the gifts made on it since their last digest."

    def handle(self, *args, **options):
        sent = digests.send_all()
        self.stdout.write(f"Queued {sent} digest(s).")
