from django.conf import settings
from django.core.checks import Warning, register


@register(deploy=True)
def email_settings(app_configs, **kwargs):
    warnings = []
    if not settings.SITE_URL:
        warnings.append(
            Warning(
                "SITE_URL is not set: links in emails (receipts, sign-in, unsubscribe) would be broken.",
                hint="Set SITE_URL to the site's public address, e.g. https://www.podari.life.",
                id="donors.W002",
            )
        )
    return warnings
