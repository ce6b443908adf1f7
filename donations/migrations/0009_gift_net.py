"""Gifts get the stored sum of their ledger entries (net_minor); offline gifts may have no mode.

The old money columns stay until ledger 0005 has turned them into entries; donations
0010 then removes them.
"""

import donations.models
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0008_project_gallery"),
    ]

    operations = [
        migrations.AddField(
            model_name='gift',
            name='net_minor',
            field=models.BigIntegerField(db_default=0, default=0, editable=False, verbose_name='counts for (minor units)'),
        ),
        migrations.AlterField(
            model_name='gift',
            name='livemode',
            field=models.BooleanField(blank=True, default=donations.models.key_livemode, help_text="Stripe's mode (test payments never count on a live site); empty for offline gifts.", null=True, verbose_name='live mode'),
        ),
        migrations.AlterField(
            model_name='gift',
            name='status',
            field=models.CharField(choices=[('pending', 'Pending: waiting for Stripe'), ('not_started', 'Not started: Stripe could not be reached'), ('succeeded', 'Succeeded'), ('failed', 'Failed'), ('abandoned', 'Abandoned: checkout expired'), ('partially_refunded', 'Partially refunded'), ('refunded', 'Refunded'), ('void', 'Void: recorded in error')], default='pending', max_length=20),
        ),
    ]
