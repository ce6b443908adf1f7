"""The ledger of entries: one append-only row per movement of money, and reconciliation runs.

On PostgreSQL (production's database) a trigger refuses to update or delete an entry,
whatever code tries; the ORM refuses too (ledger.models.EntryQuerySet), on any database.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models


APPEND_ONLY = """
CREATE FUNCTION ledger_entry_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION 'ledger entries are append-only: record a correcting entry instead';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER ledger_entry_append_only BEFORE UPDATE OR DELETE ON ledger_entry
    FOR EACH ROW EXECUTE FUNCTION ledger_entry_append_only();
"""
DROP_APPEND_ONLY = """
DROP TRIGGER IF EXISTS ledger_entry_append_only ON ledger_entry;
DROP FUNCTION IF EXISTS ledger_entry_append_only();
"""


def refuse_changes_to_entries(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(APPEND_ONLY)


def allow_changes_to_entries(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_APPEND_ONLY)


class Migration(migrations.Migration):

    dependencies = [
        ('donations', '0009_gift_net'),
        ('ledger', '0003_staff_groups'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name='ReconciliationCheckpoint',
            fields=[
                ('name', models.CharField(max_length=50, primary_key=True, serialize=False)),
                ('created_after', models.BigIntegerField(default=0)),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
        ),
        migrations.CreateModel(
            name='ReconciliationRun',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('started_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('finished_at', models.DateTimeField(blank=True, null=True)),
                ('status', models.CharField(choices=[('running', 'Running'), ('finished', 'Finished'), ('interrupted', 'Interrupted (resumes where it stopped)')], default='running', max_length=12)),
                ('repair', models.BooleanField(help_text='Off: a dry run, which only lists what it finds.')),
                ('started_by', models.CharField(blank=True, help_text='A person, or the scheduled task.', max_length=150)),
                ('checks', models.JSONField(blank=True, default=list, help_text='What this run looked at.')),
                ('summary', models.JSONField(blank=True, default=dict)),
                ('cursors', models.JSONField(blank=True, default=dict)),
            ],
            options={
                'ordering': ['-started_at'],
            },
        ),
        migrations.AddField(
            model_name='funduse',
            name='void_reason',
            field=models.TextField(blank=True, editable=False),
        ),
        migrations.AddField(
            model_name='funduse',
            name='voided_at',
            field=models.DateTimeField(blank=True, editable=False, null=True),
        ),
        migrations.CreateModel(
            name='Difference',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('kind', models.CharField(choices=[('missing_in_ledger', 'Stripe has money from this site the ledger lacks'), ('missing_in_stripe', 'The ledger has a payment Stripe lacks'), ('amount', 'Amounts differ'), ('status', 'Statuses differ'), ('fee', "Covered fee differs from Stripe's fee"), ('payout', 'A payout does not add up'), ('undelivered_event', 'An event Stripe could not deliver'), ('stale', 'Open longer than it should be')], max_length=20)),
                ('stripe_object_id', models.CharField(blank=True, max_length=255)),
                ('description', models.TextField()),
                ('ledger_amount_minor', models.BigIntegerField(blank=True, null=True)),
                ('stripe_amount_minor', models.BigIntegerField(blank=True, null=True)),
                ('currency', models.CharField(blank=True, max_length=3)),
                ('repaired', models.BooleanField(default=False)),
                ('found_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('gift', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to='donations.gift')),
                ('run', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='differences', to='ledger.reconciliationrun')),
            ],
            options={
                'ordering': ['-found_at', 'pk'],
            },
        ),
        migrations.CreateModel(
            name='Entry',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('key', models.CharField(max_length=255, unique=True)),
                ('kind', models.CharField(choices=[('payment', 'Payment'), ('covered_fee', 'Fee covered by the donor'), ('refund', 'Refund'), ('refund_reversal', 'Failed refund given back'), ('dispute_hold', 'Held by a dispute'), ('dispute_release', 'Dispute won: given back'), ('dispute_loss', 'Dispute lost'), ('move_out', 'Moved to another project'), ('move_in', 'Moved from another project'), ('offline_gift', 'Offline gift'), ('offline_correction', 'Offline gift corrected'), ('fund_use', 'Use of funds'), ('fund_use_correction', 'Use of funds corrected')], max_length=24)),
                ('account', models.CharField(choices=[('project', "The project's money"), ('fee', 'Fee the donor covered'), ('held', 'Held by a dispute')], default='project', max_length=10)),
                ('amount_minor', models.BigIntegerField(verbose_name='amount (minor units; negative takes away)')),
                ('currency', models.CharField(max_length=3)),
                ('occurred_at', models.DateTimeField(help_text="When it happened: Stripe's time for Stripe's entries.")),
                ('source', models.CharField(choices=[('stripe', 'A Stripe event'), ('staff', 'Staff'), ('reconciliation', 'Reconciliation with Stripe'), ('migration', 'Recorded before the ledger existed')], max_length=15)),
                ('stripe_event_id', models.CharField(blank=True, max_length=255)),
                ('stripe_object_id', models.CharField(blank=True, max_length=255)),
                ('stated_amount_minor', models.BigIntegerField(blank=True, null=True)),
                ('stated_currency', models.CharField(blank=True, max_length=3)),
                ('livemode', models.BooleanField(blank=True, help_text="Stripe's mode, for Stripe's entries only; empty for offline money.", null=True)),
                ('note', models.CharField(blank=True, max_length=500)),
                ('recorded_at', models.DateTimeField(default=django.utils.timezone.now, editable=False)),
                ('fund_use', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='ledger.funduse')),
                ('gift', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='donations.gift')),
                ('project', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='donations.project')),
                ('recorded_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='+', to=settings.AUTH_USER_MODEL)),
                ('reconciliation_run', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.PROTECT, related_name='entries', to='ledger.reconciliationrun')),
            ],
            options={
                'verbose_name': 'ledger entry',
                'verbose_name_plural': 'ledger entries',
                'ordering': ['occurred_at', 'pk'],
                'indexes': [models.Index(fields=['gift', 'account'], name='entry_gift_idx'), models.Index(fields=['project', 'currency', 'kind'], name='entry_project_idx'), models.Index(fields=['stripe_object_id'], name='entry_stripe_object_idx')],
                'constraints': [models.CheckConstraint(condition=models.Q(models.Q(('fund_use__isnull', False), ('gift__isnull', True)), models.Q(('fund_use__isnull', True), ('gift__isnull', False)), _connector='OR'), name='entry_of_a_gift_or_a_use'), models.CheckConstraint(condition=models.Q(('amount_minor', 0), _negated=True), name='entry_moves_money')],
            },
        ),
        migrations.RunPython(refuse_changes_to_entries, allow_changes_to_entries),
    ]
