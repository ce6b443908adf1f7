from django.core.management.base import BaseCommand

from donors import impact


class Command(BaseCommand):
    help = (
        "Email stories that have gone live and were never announced (scheduled stories whose "
        "time has come) to the donors who asked for such news. Run it every few minutes from "
        "cron or your host's scheduler; it is safe to run at any time."
    )

    def handle(self, **options):
        announced = impact.announce_due()
        for story_id, queued in announced.items():
            self.stdout.write(f"Story {story_id}: {queued} email(s) queued.")
        if not announced:
            self.stdout.write("No story to announce.")
