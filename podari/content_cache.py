"""Values built from stories and projects, kept in the cache under the content version.

Pages that bypass the page cache (staff, donors back from checkout, the first reader
after a change) still ask the same questions over and over: which story comes before
this one, what a story card looks like. The answers change only when a story or project
does, which replaces the content version (podari/page_cache.py), or when content changes
by itself, which saves nothing: a scheduled story goes live, a match starts or ends. So a
value kept here is stored under the content version and expires at the next such moment
(next_change_at); that moment is itself kept here, under the content version, and looked
up again once it has passed.

Nothing here is used while PAGE_CACHE_ENABLED is off: the test suite and the benchmark's
query counts see every query a page can make.
"""

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from podari.page_cache import GIFTS_VERSION_KEY, VERSION_KEY, content_version, gifts_version

NO_CHANGE = "none"


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


def next_change_at():
    """The next moment public content changes by itself, with no save to move the
    version: a scheduled story goes live, or a match starts or ends (and pages start or
    stop saying "your gift is doubled"). None when nothing is due."""
    from campaigns.models import Match
    from stories.models import Story

    moments = (Story.objects.next_publish_at(), Match.objects.next_change_at())
    return min((moment for moment in moments if moment is not None), default=None)


def seconds_to_keep(version, next_change=None):
    """How long a value built under `version` may be kept: PAGE_CACHE_SECONDS, or less
    when content changes by itself sooner (next_change_at). `next_change`: the kept
    moment, if read."""
    now = timezone.now()
    if next_change is None:
        next_change = cache.get(f"content:{version}:next-change")
    if next_change is None or (next_change != NO_CHANGE and next_change <= now):
        next_change = next_change_at() or NO_CHANGE
        cache.set(f"content:{version}:next-change", next_change, settings.PAGE_CACHE_SECONDS)
    if next_change == NO_CHANGE:
        return settings.PAGE_CACHE_SECONDS
    return max(0, min(settings.PAGE_CACHE_SECONDS, int((next_change - now).total_seconds())))


def cached(request, name, build):
    """build(), kept under the content version until content next changes by itself.

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
