"""A stored event names the payment it is about: a payment intent, or for an invoice
payment, its invoice, so that both kinds of waiting events are found by one indexed column."""

from django.db import migrations, models


def invoice_payments_name_their_invoice(apps, schema_editor):
    """Invoice payments stored before this waited by their invoice, read from the payload."""
    StripeEvent = apps.get_model("donations", "StripeEvent")
    for event in StripeEvent.objects.filter(type="invoice_payment.paid", payment_id="").iterator():
        invoice = event.payload.get("data", {}).get("object", {}).get("invoice")
        if isinstance(invoice, dict):
            invoice = invoice.get("id")
        if isinstance(invoice, str):
            StripeEvent.objects.filter(pk=event.pk).update(payment_id=invoice[:255])


class Migration(migrations.Migration):
    dependencies = [
        ("donations", "0013_simulated_stripe_events"),
    ]

    operations = [
        migrations.RenameField(model_name="stripeevent", old_name="payment_intent_id", new_name="payment_id"),
        migrations.RunPython(invoice_payments_name_their_invoice, migrations.RunPython.noop),
    ]
