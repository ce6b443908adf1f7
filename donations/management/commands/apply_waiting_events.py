"""The sweep of Stripe events waiting for their payment, for cron every few minutes:

    python manage.py apply_waiting_events

A refund or dispute stored before its payment is applied when the payment is recorded;
this catches one whose payment was recorded by a path that did not look for it.
"""

from django.core.management.base import BaseCommand

from donations import webhooks


class Command(BaseCommand):
    help = "Apply the stored Stripe events that wait for their payment, where the payment is now recorded."

    def handle(self, *args, **options):
        applied, waiting = webhooks.apply_all_waiting()
        self.stdout.write(f"Applied {applied} waiting event(s); {waiting} still wait.")
