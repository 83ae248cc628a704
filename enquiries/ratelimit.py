"""Fixed-window rate limits kept in the cache (Redis in production)."""

from __future__ import annotations

import hashlib
import time

from django.core.cache import cache
from django.http import HttpRequest

WINDOW_SECONDS = 3600


def client_ip(request: HttpRequest) -> str:
    # Behind a proxy, have it set REMOTE_ADDR (gunicorn --forwarded-allow-ips).
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def over_limit(*, scope: str, key: str, limit: int) -> bool:
    """Count one hit for (scope, key) in this hour; True once it passes `limit`."""
    window = int(time.time() // WINDOW_SECONDS)
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    cache_key = f"rl:{scope}:{digest}:{window}"
    if cache.add(cache_key, 1, WINDOW_SECONDS):
        return limit < 1
    try:
        count = cache.incr(cache_key)
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, WINDOW_SECONDS)
        count = 1
    return count > limit
