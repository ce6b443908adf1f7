"""Simulated checkout only: charge the next month of a monthly gift, as Stripe would.

    DEBUG=1 .venv/bin/python manage.py simulate_monthly_payment                     # all running
    DEBUG=1 .venv/bin/python manage.py simulate_monthly_payment --recurring-gift 3  # one of them

Each month is an `invoice.paid` event (and its `invoice_payment.paid`), signed and sent
through the same webhook handlers as Stripe's, so it becomes one more gift.
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from donations import services
from donations.models import RecurringGift


class Command(BaseCommand):
    help = "Simulated checkout only: send invoice.paid for the next month of monthly gifts."

    def add_arguments(self, parser):
        parser.add_argument(
            "--recurring-gift", type=int, help="Id of one monthly gift (default: all running)."
        )

    def handle(self, *args, recurring_gift=None, **options):
        if not settings.SIMULATED_CHECKOUT:
            raise CommandError("Only with the simulated checkout: DEBUG=1 and no STRIPE_SECRET_KEY.")
        recurring = RecurringGift.objects.filter(stripe_subscription_id__startswith="sub_simulated_")
        if recurring_gift is not None:
            recurring = recurring.filter(pk=recurring_gift)
            if not recurring.exists():
                raise CommandError(f"No simulated monthly gift with id {recurring_gift}.")
        else:
            recurring = recurring.filter(status__in=RecurringGift.RUNNING_STATUSES)
        count = 0
        for item in recurring.order_by("pk"):
            if not item.is_running:
                raise CommandError(
                    f"{item} is {item.get_status_display().lower()}: Stripe would not charge it."
                )
            services.simulate_next_monthly_payment(item)
            count += 1
            self.stdout.write(f"Charged the next month of {item}.")
        self.stdout.write(self.style.SUCCESS(f"{count} monthly payment(s) simulated."))
