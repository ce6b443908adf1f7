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

from podari.page_cache import GIFTS_VERSION_KEY, VERSION_KEY, content_version, gifts_version

NO_PUBLICATION = "none"


def _request_versions(request):
    """The content and gifts versions, read from the cache once per request, together."""
    if request is None:
        return content_version(), gifts_version()
    if not hasattr(request, "_podari_versions"):
        found = cache.get_many([VERSION_KEY, GIFTS_VERSION_KEY])
        request._podari_versions = (
            found.get(VERSION_KEY) or content_version(),
            found.get(GIFTS_VERSION_KEY) or gifts_version(),
        )
    return request._podari_versions


def request_content_version(request):
    return _request_versions(request)[0]


def request_gifts_version(request):
    return _request_versions(request)[1]


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
    """build(), kept under the content version until the next scheduled story is due.

    The value's timeout ends at that moment (seconds_to_keep), so whatever the cache
    still holds is current: one read, no second look at the schedule.
    """
    if not settings.PAGE_CACHE_ENABLED:
        return build()
    version = request_content_version(request)
    key = f"content:{version}:{name}"
    found = cache.get(key)
    if found is not None:
        return found[0]
    value = build()
    timeout = seconds_to_keep(version)
    if timeout > 0:
        cache.set(key, (value,), timeout)  # in a tuple: None is a value too
    return value
