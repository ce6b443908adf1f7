"""Values built from stories and projects, kept in the cache under the content version.

Pages that bypass the page cache (staff, donors back from checkout, the first reader
after a change) still ask the same questions over and over: which story comes before
this one, what a story card looks like. The answers change only when a story or project
does, which replaces the content version (podari/page_cache.py), or when a scheduled
story goes live, which saves nothing. So a value kept here is stored under the content
version and expires when the next scheduled story is due; that moment is itself kept
here, under the content version, and looked up again once it has passed.

Nothing here is used while PAGE_CACHE_ENABLED is off: the test suite and the benchmark's
query counts see every query a page can make.
"""

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from podari.page_cache import content_version, gifts_version

NO_PUBLICATION = "none"


def request_content_version(request):
    """The content version, read from the cache once per request."""
    if request is None:
        return content_version()
    if not hasattr(request, "_podari_content_version"):
        request._podari_content_version = content_version()
    return request._podari_content_version


def request_gifts_version(request):
    """The gifts version, read from the cache once per request."""
    if request is None:
        return gifts_version()
    if not hasattr(request, "_podari_gifts_version"):
        request._podari_gifts_version = gifts_version()
    return request._podari_gifts_version


def seconds_to_keep(version, next_publish=None):
    """How long a value built under `version` may be kept: PAGE_CACHE_SECONDS, or less
    when a scheduled story goes live sooner. `next_publish`: the kept moment, if read."""
    from stories.models import Story

    now = timezone.now()
    if next_publish is None:
        next_publish = cache.get(f"content:{version}:next-publish")
    if next_publish is None or (next_publish != NO_PUBLICATION and next_publish <= now):
        next_publish = Story.objects.next_publish_at() or NO_PUBLICATION
        cache.set(f"content:{version}:next-publish", next_publish, settings.PAGE_CACHE_SECONDS)
    if next_publish == NO_PUBLICATION:
        return settings.PAGE_CACHE_SECONDS
    return max(0, min(settings.PAGE_CACHE_SECONDS, int((next_publish - now).total_seconds())))


def cached(request, name, build):
    """build(), kept under the content version until the next scheduled story is due."""
    if not settings.PAGE_CACHE_ENABLED:
        return build()
    version = request_content_version(request)
    key, publish_key = f"content:{version}:{name}", f"content:{version}:next-publish"
    found = cache.get_many([key, publish_key])
    next_publish = found.get(publish_key)
    if key in found and (next_publish == NO_PUBLICATION or (next_publish and next_publish > timezone.now())):
        return found[key][0]
    value = build()
    timeout = seconds_to_keep(version, next_publish)
    if timeout > 0:
        cache.set(key, (value,), timeout)  # in a tuple: None is a value too
    return value
