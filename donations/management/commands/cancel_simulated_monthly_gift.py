"""Simulated checkout only: cancel a monthly gift, as a donor would in Stripe's portal.

    DEBUG=1 .venv/bin/python manage.py cancel_simulated_monthly_gift 3

Sends a signed `customer.subscription.deleted` through the same webhook handlers as Stripe's.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from donations import services
from donations.models import RecurringGift


class Command(BaseCommand):
    help = "Simulated checkout only: cancel a monthly gift (customer.subscription.deleted)."

    def add_arguments(self, parser):
        parser.add_argument("recurring_gift", type=int, help="Id of the monthly gift.")
        parser.add_argument(
            "--lose-webhook",
            action="store_true",
            help="Stripe cancels it but its event never arrives (for `reconcile_stripe` to find).",
        )

    def handle(self, *args, recurring_gift, lose_webhook=False, **options):
        if not settings.SIMULATED_CHECKOUT:
            raise CommandError("Only with the simulated checkout: DEBUG=1 and no STRIPE_SECRET_KEY.")
        recurring = RecurringGift.objects.filter(
            pk=recurring_gift, stripe_subscription_id__startswith="sub_simulated_"
        ).first()
        if recurring is None:
            raise CommandError(f"No simulated monthly gift with id {recurring_gift}.")
        services.cancel_simulated_subscription(recurring, lose_webhook=lose_webhook)
        recurring.refresh_from_db()
        self.stdout.write(self.style.SUCCESS(f"{recurring}: {recurring.get_status_display()}."))
