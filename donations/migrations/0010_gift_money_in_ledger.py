"""The gift's old money columns, now ledger entries (ledger 0005), go."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0009_gift_net"),
        ("ledger", "0005_entries_from_records"),
    ]

    operations = [
        migrations.RemoveConstraint(
            model_name='gift',
            name='refund_not_above_amount',
        ),
        migrations.RemoveConstraint(
            model_name='gift',
            name='dispute_not_above_amount',
        ),
        migrations.RemoveIndex(
            model_name='gift',
            name='gift_public_donors_idx',
        ),
        migrations.RemoveIndex(
            model_name='gift',
            name='gift_totals_idx',
        ),
        migrations.RemoveField(
            model_name='gift',
            name='amount_disputed_minor',
        ),
        migrations.RemoveField(
            model_name='gift',
            name='amount_refunded_minor',
        ),
        migrations.RemoveField(
            model_name='gift',
            name='failed_refund_ids',
        ),
        migrations.AddIndex(
            model_name='gift',
            index=models.Index(fields=['project', 'currency'], include=('net_minor', 'livemode'), name='gift_net_idx'),
        ),
        migrations.AddIndex(
            model_name='gift',
            index=models.Index(condition=models.Q(('net_minor__gt', 0), ('show_name_publicly', True)), fields=['project', '-paid_at'], name='gift_named_donors_idx'),
        ),
        migrations.AddConstraint(
            model_name='gift',
            constraint=models.CheckConstraint(condition=models.Q(('net_minor__gte', 0)), name='gift_net_not_negative'),
        ),
    ]
