"""Fixed-window rate limits kept in the cache (Redis in production)."""

from __future__ import annotations

import hashlib
import time
from typing import Any

from django.core.cache import cache, caches
from django.core.cache.backends.redis import RedisCache
from django.http import HttpRequest

WINDOW_SECONDS = 3600


def client_ip(request: HttpRequest) -> str:
    # Behind a proxy, have it set REMOTE_ADDR (gunicorn --forwarded-allow-ips).
    return str(request.META.get("REMOTE_ADDR", "unknown"))


def _key(scope: str, key: str) -> str:
    window = int(time.time() // WINDOW_SECONDS)
    digest = hashlib.sha256(key.strip().lower().encode()).hexdigest()[:32]
    return f"rl:{scope}:{digest}:{window}"


def _count(cache_key: str) -> int:
    """Add one hit through the cache API (any backend)."""
    if cache.add(cache_key, 1, WINDOW_SECONDS):
        return 1
    try:
        return int(cache.incr(cache_key))
    except ValueError:  # expired between add and incr
        cache.set(cache_key, 1, WINDOW_SECONDS)
        return 1


def hits(*checks: tuple[str, str]) -> list[int]:
    """Count one hit for each (scope, key) in this hour; return the counts.

    On Redis all counters move in one round trip (INCR, then EXPIRE only when the
    key is new); other cache backends go through the cache API one key at a time.
    """
    keys = [_key(scope, key) for scope, key in checks]
    backend: Any = caches["default"]
    if isinstance(backend, RedisCache):
        client = backend._cache.get_client(write=True)  # Django's own Redis client
        pipe = client.pipeline(transaction=False)
        for k in keys:
            full = backend.make_and_validate_key(k)
            pipe.incr(full)
            pipe.expire(full, WINDOW_SECONDS, nx=True)
        return [int(n) for n in pipe.execute()[::2]]
    return [_count(k) for k in keys]


def over_limit(*, scope: str, key: str, limit: int) -> bool:
    """Count one hit for (scope, key) in this hour; True once it passes `limit`."""
    return hits((scope, key))[0] > limit


def submission_refused(*, ip: str, email: str, limit: int) -> bool:
    """Count a submission against its IP and its email; True if either is over."""
    return any(n > limit for n in hits(("submit-ip", ip), ("submit-email", email)))
