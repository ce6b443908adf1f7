"""A fixed-window counter in the cache, shared by app servers when the cache is Redis."""

import hashlib

from django.conf import settings
from django.core.cache import cache


def client_ip(request):
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        # Behind our own proxy the last address it appended is the client's.
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[-1].strip()
    return request.META.get("REMOTE_ADDR", "")


def over_limit(scope, identity, *, limit, window_seconds):
    """Count one hit for identity; True once it has been hit more than `limit` times this window."""
    digest = hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:32]
    key = f"ratelimit:{scope}:{digest}"
    cache.add(key, 0, timeout=window_seconds)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        hits = 1
    return hits > limit
