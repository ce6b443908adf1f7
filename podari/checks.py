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


@register()
def media_registry_complete(app_configs, **kwargs):
    # cleanup_media deletes what no registered field refers to: a file field missing from
    # the registry would have its files deleted as unused.
    from podari.media_registry import unregistered_fields

    return [
        Error(
            f"{field} holds stored files but is not in podari.media_registry.REGISTRY.",
            hint="Add it to REGISTRY, or cleanup_media will delete its files as unused.",
            id="podari.E002",
        )
        for field in unregistered_fields()
    ]
