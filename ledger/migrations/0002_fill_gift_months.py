"""Fill the ledger's monthly sums from the gifts already recorded.

The same arithmetic as GiftMonthQuerySet.rebuild, on this migration's models.
"""

from django.conf import settings
from django.db import migrations, models
from django.db.models import Count, F, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.utils import timezone

COUNTED_STATUSES = ["succeeded", "partially_refunded"]


def fill(apps, schema_editor):
    Gift = apps.get_model("donations", "Gift")
    GiftMonth = apps.get_model("ledger", "GiftMonth")
    Project = apps.get_model("donations", "Project")
    net = F("amount_minor") - F("amount_refunded_minor") - F("amount_disputed_minor")
    for project in Project.objects.only("id"):
        rows = (
            Gift.objects.filter(
                project=project,
                status__in=COUNTED_STATUSES,
                livemode=settings.STRIPE_LIVEMODE,
                amount_minor__gt=F("amount_refunded_minor") + F("amount_disputed_minor"),
            )
            .annotate(
                month=TruncMonth(
                    Coalesce("paid_at", "created_at"),
                    output_field=models.DateField(),
                    tzinfo=timezone.get_default_timezone(),
                ),
                offline=~Q(source="stripe"),
            )
            .values("currency", "month", "offline")
            .annotate(net=Sum(net), n=Count("*"))
            .order_by()
        )
        GiftMonth.objects.bulk_create(
            GiftMonth(
                project=project,
                currency=row["currency"],
                month=row["month"],
                offline=row["offline"],
                net_minor=row["net"],
                gift_count=row["n"],
            )
            for row in rows
        )


class Migration(migrations.Migration):
    dependencies = [
        ("ledger", "0001_ledger"),
        ("donations", "0005_donors_and_monthly_gifts"),
    ]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
