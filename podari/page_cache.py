"""Full-page cache for anonymous readers of the public pages.

Every page a reader can see is built from stories, projects and gifts, so one value,
the content version, stands for all of them: any change to those models replaces it,
and every cached page stored under an older value is simply never read again. Visitors
with a session (staff, a donor back from checkout) always get a fresh page.

Invalidation happens after the change commits, never inside its transaction. A reader
who arrived in between would otherwise read the new version, still see the old rows,
and store the old page under the new version for everybody.

- Saving or deleting a row of any model public pages show (or changing its many-to-many
  links) schedules the bump of its version by signal: podari/cache_wiring.py holds the one
  map from model to version, and connects it.
- `invalidate_pages_on_commit()` schedules the same bump by hand, for code that changes
  what pages show without sending those signals (`QuerySet.update()`, raw SQL).

A giving spike (Giving Tuesday, a match campaign) brings gifts several times a second,
and each gift changes totals on most pages. Three things keep the cache useful meanwhile:

- Gifts have a version of their own. A gift replaces only the gifts version, which
  pages that show no gift (the story list, the feed: `public_page(..., shows_gifts=False)`)
  ignore; stories and projects replace the content version, which every page checks.
- Totals may lag: a page stored less than PAGE_CACHE_GIFTS_LAG_SECONDS ago (1 s) is
  served even if gifts have arrived since. So each page is rebuilt at most once in that
  time however many gifts arrive, and every reader sees a gift within about a second.
  A change to a story or a project is never served late: with the content version
  moved, nobody gets the old copy. Visitors with a session (a donor back from
  checkout) see their gift at once: they never get a stored page.
- When the lag has passed, one worker rebuilds the page while the others go on serving
  the stored copy (for at most REBUILD_SECONDS), instead of every reader waiting at that
  moment rendering the same page.

What browsers, nginx and a CDN may keep of the same pages (Cache-Control) is decided
apart, for every response, by podari/edge_cache.py.

The cache is the `default` alias, shared by every worker and server: Redis with
`REDIS_URL`, otherwise a table in the site's database (see settings.CACHES).
"""

import functools
import secrets
import time
from urllib.parse import urlencode

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.http import QueryDict
from django.urls import Resolver404, get_urlconf, resolve

VERSION_KEY = "page-cache:content-version"
GIFTS_VERSION_KEY = "page-cache:gifts-version"
# Longest a page may be served from before a gift while one worker rebuilds it; a
# rebuild takes milliseconds, so this only matters if that worker dies meanwhile.
REBUILD_SECONDS = 3


def public_page(view, *, query=(), shows_gifts=True):
    """Mark a view whose anonymous GET response may be served from the page cache.

    `query` names the query parameters the view reads (e.g. ``("page",)``); any other
    parameter (utm_*, fbclid, ...) is dropped before the view runs, so it neither
    bypasses the cache nor stores another copy of the page.

    `shows_gifts=False` marks a page that nothing about gifts can change (no totals, no
    donor names): new gifts leave it in the cache.
    """
    view.public_page = True
    view.public_page_query = tuple(query)
    view.public_page_shows_gifts = shows_gifts
    return view


def _new_version():
    # Random, not a counter: two bumps racing on a cache without atomic increments
    # (the database cache) can never write the same value.
    return secrets.token_hex(8)


def _current(key):
    version = cache.get(key)
    if version is None:  # never set, or evicted: any new value invalidates
        cache.add(key, _new_version(), timeout=None)
        version = cache.get(key)
    return version


def content_version():
    return _current(VERSION_KEY)


def gifts_version():
    return _current(GIFTS_VERSION_KEY)


def bump_content_version():
    """Invalidate every cached page now. Call it only after the change has committed."""
    cache.set(VERSION_KEY, _new_version(), timeout=None)


def bump_gifts_version():
    """Invalidate the cached pages that show gifts now. Call it only after the change has committed."""
    cache.set(GIFTS_VERSION_KEY, _new_version(), timeout=None)


def invalidate_pages_on_commit(using=None):
    """Invalidate every cached page once the current transaction commits (at once outside one)."""
    transaction.on_commit(bump_content_version, using=using)


def invalidate_gift_pages_on_commit(using=None):
    """Invalidate the pages that show gifts once the current transaction commits."""
    transaction.on_commit(bump_gifts_version, using=using)


def page_key(request):
    # The scheme and host are part of the key: canonical links and feed URLs name the
    # address a page was built for, so a plain-http request must not fill the https page.
    return f"page-cache:{request.scheme}://{request.get_host()}{request.get_full_path()}"


def _keep_known_query(request, known):
    """Drop the query parameters the view does not read, as if the reader had not sent them."""
    if not request.META.get("QUERY_STRING"):
        return
    kept = [(name, value) for name, value in request.GET.items() if name in known]
    query = urlencode(sorted(kept))
    request.META["QUERY_STRING"] = query
    request.GET = QueryDict(query)


class PublicPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        view = self._cacheable_view(request)
        if view is None:
            return self.get_response(request)
        _keep_known_query(request, view.public_page_query)
        key = page_key(request)
        shows_gifts = getattr(view, "public_page_shows_gifts", True)
        # One round trip to the cache for the current versions and the stored page.
        found = cache.get_many([VERSION_KEY, GIFTS_VERSION_KEY, key] if shows_gifts else [VERSION_KEY, key])
        version = (
            found.get(VERSION_KEY) or content_version(),
            (found.get(GIFTS_VERSION_KEY) or gifts_version()) if shows_gifts else None,
        )
        stored = found.get(key)
        rebuilding = None
        if stored is not None:
            stored_version, stored_response, stored_at = stored
            if stored_version == version:
                return stored_response
            if stored_version[0] == version[0]:
                # Only gifts changed: the stored copy may lag them a moment, then one
                # worker rebuilds the page while the others keep serving it.
                if time.time() - stored_at < settings.PAGE_CACHE_GIFTS_LAG_SECONDS:
                    return stored_response
                rebuilding = f"{key}:rebuilding"
                if not cache.add(rebuilding, True, timeout=REBUILD_SECONDS):
                    return stored_response
        try:
            response = self.get_response(request)
            if response.status_code == 200 and not response.cookies and not response.streaming:
                timeout = self._timeout(version[0])
                if timeout > 0:
                    cache.set(key, (version, response, time.time()), timeout)
        finally:
            if rebuilding:
                cache.delete(rebuilding)
        return response

    def _timeout(self, version):
        # A scheduled story goes live, and a match starts or ends, with no save to bump
        # the version, so no page is kept past that moment (itself kept under the content
        # version: no query for every page stored).
        from podari.content_cache import seconds_to_keep

        return seconds_to_keep(version)

    def _cacheable_view(self, request):
        if not settings.PAGE_CACHE_ENABLED:
            return None
        if request.method not in ("GET", "HEAD") or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return None
        return public_page_view(request.path_info, get_urlconf())


# Every anonymous request asks, and a cache hit is otherwise little more than one round
# trip to the cache: walking the URL patterns took a fifth of it. What a path resolves to
# never changes while the process runs (only the view is kept, never a request's match);
# the bound keeps any number of distinct paths from growing it.
@functools.lru_cache(maxsize=1024)
def public_page_view(path_info, urlconf=None):
    """The view of a public page at this path, or None if the path is not one."""
    try:
        view = resolve(path_info, urlconf).func
    except Resolver404:
        return None
    return view if getattr(view, "public_page", False) else None
