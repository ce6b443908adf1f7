from django.conf import settings
from django.core.checks import Error, register


@register()
def site_url_configured(app_configs, **kwargs):
    # Canonical links, feeds and the sitemap name SITE_URL; without it they would name
    # whatever Host header a client sent.
    if settings.DEBUG or settings.SITE_URL:
        return []
    return [
        Error(
            "SITE_URL is not set.",
            hint="Set SITE_URL to the site's public address, for example https://podari.life.",
            id="podari.E001",
        )
    ]
