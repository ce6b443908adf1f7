"""Fixed-window counters in the `ratelimit` cache, and the client's address.

The counters live in a cache alias of their own (Redis, or a database table without
REDIS_URL), so every worker and server shares them and cached pages never push them out.
"""

import hashlib
import ipaddress
import time

from django.conf import settings
from django.core.cache import caches


def client_ip(request):
    """The address of the client, as the outermost trusted proxy saw it.

    Each proxy in front of the site appends the address it received the request from to
    X-Forwarded-For, so with TRUSTED_PROXY_COUNT proxies the client is that many entries
    from the end. Anything further left was written by the client and is ignored, and
    with no trusted proxy the header is ignored altogether. Used by the donate form's
    rate limits and by django-axes (AXES_CLIENT_IP_CALLABLE).
    """
    remote = request.META.get("REMOTE_ADDR", "")
    count = settings.TRUSTED_PROXY_COUNT
    if count <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return remote
    candidate = hops[-count] if len(hops) >= count else hops[0]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:  # not written by a proxy of ours
        return remote


def over_limit(scope, identity, *, limit, window_seconds):
    """Count one hit for identity; True once it has been hit more than `limit` times this window."""
    cache = caches["ratelimit"]
    digest = hashlib.sha256(identity.strip().lower().encode()).hexdigest()[:32]
    # Fixed windows, each with a key of its own: no counter outlives its window.
    window = int(time.time() // window_seconds)
    key = f"ratelimit:{scope}:{digest}:{window}"
    cache.add(key, 0, timeout=window_seconds)
    try:
        hits = cache.incr(key)
    except ValueError:  # expired between add and incr
        cache.set(key, 1, timeout=window_seconds)
        hits = 1
    return hits > limit
