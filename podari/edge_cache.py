"""What a browser, nginx or a CDN may keep: one `Cache-Control` policy for every response.

Each URL pattern is classified here by name, or by namespace for a whole app:

- PUBLIC: the same page for every anonymous reader. A 200 answer to a GET from a reader
  with no session and no messages, that sets no cookie and used no CSRF token, may be
  kept by a shared cache for PAGE_CACHE_SHARED_SECONDS and served stale while it is
  refreshed or while the site is down. Anything else from these patterns (a donor signed
  in, a 404) is `private, no-store`.
- PRIVATE: a donor's or staff member's own page, a form, a preview, a webhook: always
  `private, no-store`.
- OWN_HEADERS: files that set their own long-lived headers (robots.txt, media, the favicon
  redirect), left as they are.

Any address no pattern takes is `private, no-store`. tests/podari/test_edge_cache.py
fails when a pattern is in no group, so a new page is classified when it is added. The
nginx microcache (deploy/nginx/) and any CDN (docs/cdn.md) only follow these headers.
"""

import functools

from django.conf import settings
from django.contrib.messages.storage.cookie import CookieStorage
from django.urls import Resolver404, get_urlconf, resolve
from django.utils.cache import patch_cache_control

PUBLIC = frozenset(
    {
        "stories:home",
        "stories:list",
        "stories:detail",
        "stories:feed",
        "donations:project_list",
        "donations:project_detail",
        "ledger:project_json",
        "ledger:project_csv",
        "charity:page",
        "charity:about",
        "charity:financial_reports",
        "sitemap",
        # A live fundraiser page (a page waiting for approval is its owner's preview,
        # which its view marks private).
        "fundraisers:detail",
    }
)

PRIVATE = frozenset(
    {
        # Whole apps: every page in them is one person's, or a form.
        "admin",
        "donors",
        # Supporters' sign-in, their own pages and forms; the public page is named above.
        "fundraisers",
        "donations:donate",
        "donations:thanks",
        "donations:simulated_checkout",
        "donations:stripe_webhook",
        "stories:preview",
        "ledger_dashboard",
        "ledger_reconciliation",
        "ledger_reconciliation_run",
        "markdownx_upload",
        "markdownx_markdownify",
        "healthz",
    }
)

OWN_HEADERS = frozenset({"robots_txt", "media", "favicon"})

# A response to a reader with any of these is theirs alone, whatever the page.
MESSAGES_COOKIE_NAME = CookieStorage.cookie_name


class EdgeCacheHeadersMiddleware:
    """Sets the final Cache-Control, outside the page cache, sessions, CSRF and messages,
    so it sees every cookie they set and every page the page cache serves."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        group = url_group(request.path_info, get_urlconf())
        if group == "own":
            return response
        if group == "public" and shareable(request, response):
            patch_cache_control(
                response,
                public=True,
                max_age=settings.PAGE_CACHE_BROWSER_SECONDS,
                s_maxage=settings.PAGE_CACHE_SHARED_SECONDS,
                stale_while_revalidate=settings.PAGE_CACHE_STALE_WHILE_REVALIDATE_SECONDS,
                stale_if_error=settings.PAGE_CACHE_STALE_IF_ERROR_SECONDS,
            )
        else:
            patch_cache_control(response, private=True, no_store=True)
        return response


def shareable(request, response):
    """Whether this answer is the one every anonymous reader of the page would get."""
    if request.method not in ("GET", "HEAD") or response.status_code != 200 or response.streaming:
        return False
    if settings.SESSION_COOKIE_NAME in request.COOKIES or MESSAGES_COOKIE_NAME in request.COOKIES:
        return False
    # A form's CSRF token is tied to the reader's cookie (get_token() sets this flag, and
    # the CSRF middleware then sets the cookie): such a page is theirs.
    if response.cookies or request.META.get("CSRF_COOKIE_NEEDS_UPDATE"):
        return False
    # A view that said private or no-store itself knows better than its pattern.
    directives = {part.strip().split("=")[0].lower() for part in response.get("Cache-Control", "").split(",")}
    return not directives & {"private", "no-store", "no-cache"}


def group_of(view_name, namespaces):
    """ "public", "private", "own" or None, by the pattern's full name, else its namespaces."""
    candidates = [view_name] if view_name else []
    # Innermost namespace first: "fundraisers:manage" before "fundraisers".
    candidates += [":".join(namespaces[:depth]) for depth in range(len(namespaces), 0, -1)]
    for name in candidates:
        if name in PUBLIC:
            return "public"
        if name in PRIVATE:
            return "private"
        if name in OWN_HEADERS:
            return "own"
    return None


# Every request asks; what a path resolves to never changes while the process runs.
@functools.lru_cache(maxsize=1024)
def url_group(path_info, urlconf=None):
    try:
        match = resolve(path_info, urlconf)
    except Resolver404:
        return None
    return group_of(match.view_name if match.url_name else None, match.namespaces)
