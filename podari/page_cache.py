"""Full-page cache for anonymous readers of the public pages.

Every page a reader can see is built from stories, projects and gifts, so one number,
the content version, stands for all of them: any change to those models bumps it, and
every cached page under the old number is simply never read again. Visitors with a
session (staff, a donor back from checkout) always get a fresh page.
"""

import time

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import m2m_changed, post_delete, post_save
from django.urls import Resolver404, resolve
from django.utils import timezone
from django.utils.cache import patch_cache_control

from stories.models import Story

VERSION_KEY = "page-cache:content-version"


def public_page(view):
    """Mark a view whose anonymous GET response may be served from the page cache."""
    view.public_page = True
    return view


def _fresh_version():
    # Milliseconds, so a version set again after eviction never equals an older one.
    return int(time.time() * 1000)


def content_version():
    version = cache.get(VERSION_KEY)
    if version is None:
        cache.add(VERSION_KEY, _fresh_version(), timeout=None)
        version = cache.get(VERSION_KEY)
    return version


def bump_content_version(**kwargs):
    try:
        cache.incr(VERSION_KEY)
    except ValueError:  # not set yet (or evicted): any new value invalidates
        cache.add(VERSION_KEY, _fresh_version(), timeout=None)


def connect_invalidation(*models):
    for model in models:
        post_save.connect(
            bump_content_version, sender=model, dispatch_uid=f"page-cache-save-{model.__name__}"
        )
        post_delete.connect(
            bump_content_version, sender=model, dispatch_uid=f"page-cache-delete-{model.__name__}"
        )
        for field in model._meta.many_to_many:
            m2m_changed.connect(
                bump_content_version,
                sender=field.remote_field.through,
                dispatch_uid=f"page-cache-m2m-{model.__name__}-{field.name}",
            )


class PublicPageCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not self._may_cache(request):
            return self.get_response(request)
        # The host is part of the key: canonical links name the host a page was built for.
        page_key = f"page-cache:{request.get_host()}:{request.get_full_path()}"
        # One round trip to the cache for both the current version and the stored page.
        found = cache.get_many([VERSION_KEY, page_key])
        version = found.get(VERSION_KEY) or content_version()
        stored = found.get(page_key)
        if stored is not None and stored[0] == version:
            return stored[1]
        response = self.get_response(request)
        if response.status_code == 200 and not response.cookies and not response.streaming:
            patch_cache_control(response, public=True, max_age=settings.PAGE_CACHE_BROWSER_SECONDS)
            timeout = self._timeout()
            if timeout > 0:
                cache.set(page_key, (version, response), timeout)
        return response

    def _timeout(self):
        # A scheduled story goes live with no save to bump the version, so no page is
        # kept past that moment.
        timeout = settings.PAGE_CACHE_SECONDS
        next_publish = Story.objects.next_publish_at()
        if next_publish is not None:
            timeout = min(timeout, int((next_publish - timezone.now()).total_seconds()))
        return timeout

    def _may_cache(self, request):
        if not settings.PAGE_CACHE_ENABLED:
            return False
        if request.method not in ("GET", "HEAD") or settings.SESSION_COOKIE_NAME in request.COOKIES:
            return False
        try:
            match = resolve(request.path_info)
        except Resolver404:
            return False
        return getattr(match.func, "public_page", False)
