from django.conf import settings
from django.core.checks import Warning, register


@register()
def stripe_configured(app_configs, **kwargs):
    warnings = []
    if not settings.STRIPE_SECRET_KEY and not settings.SIMULATED_CHECKOUT:
        warnings.append(
            Warning(
                "STRIPE_SECRET_KEY is not set: the donate page says online giving is not configured.",
                hint="Set STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET (see the README).",
                id="donations.W001",
            )
        )
    if settings.STRIPE_SECRET_KEY and not settings.STRIPE_WEBHOOK_SECRET:
        warnings.append(
            Warning(
                "STRIPE_WEBHOOK_SECRET is not set: every webhook delivery will be refused "
                "and no gift recorded.",
                hint="Copy the signing secret of the webhook endpoint from Stripe's dashboard.",
                id="donations.W002",
            )
        )
    return warnings
