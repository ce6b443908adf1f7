from django.conf import settings
from django.core.checks import Error, Warning, register


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


@register()
def project_currencies_known(app_configs, **kwargs):
    """Every currency a project may be given is a real ISO 4217 code (Babel's list)."""
    from babel.numbers import list_currencies

    from donations.money import project_currencies

    known = {code.lower() for code in list_currencies()}
    return [
        Error(
            f"PROJECT_CURRENCIES names {code!r}, which is not a currency.",
            hint="Use three-letter ISO 4217 codes that Stripe takes, e.g. usd,eur.",
            id="donations.E001",
        )
        for code in project_currencies()
        if code not in known
    ]
