from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def email_settings(app_configs, **kwargs):
    warnings = []
    placeholders = [
        name
        for name in ("CHARITY_LEGAL_NAME", "CHARITY_ADDRESS", "CHARITY_EIN")
        if "PLACEHOLDER" in getattr(settings, name)
    ]
    if placeholders:
        warnings.append(
            Warning(
                f"{', '.join(placeholders)} still hold placeholders: donors' receipts would show them.",
                hint="Set the charity's legal name, address and tax id (EIN) in the environment.",
                id="donors.W001",
            )
        )
    if not settings.SITE_URL:
        warnings.append(
            Warning(
                "SITE_URL is not set: links in emails (receipts, sign-in, unsubscribe) would be broken.",
                hint="Set SITE_URL to the site's public address, e.g. https://www.podari.life.",
                id="donors.W002",
            )
        )
    return warnings
