"""Rate-limit counters: the cache API path and the one-round-trip Redis path agree."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings as django_settings
from django.core.cache import caches

from enquiries import ratelimit
from tests.services import need_services


def test_counts_move_per_scope_and_key_on_any_cache() -> None:
    assert ratelimit.hits(("submit-ip", "10.0.0.1"), ("submit-email", "A@x.org")) == [
        1,
        1,
    ]
    assert ratelimit.hits(("submit-ip", "10.0.0.1"), ("submit-email", "a@x.org ")) == [
        2,
        2,
    ]  # emails compare case- and space-insensitively
    assert not ratelimit.submission_refused(ip="10.0.0.1", email="a@x.org", limit=3)
    assert ratelimit.submission_refused(ip="10.0.0.1", email="b@x.org", limit=3)


@pytest.mark.services
def test_on_redis_one_pipeline_counts_and_sets_the_window(settings: Any) -> None:
    need_services()
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": django_settings.REDIS_URL,
            "KEY_PREFIX": "ratelimit-test",
        }
    }
    backend = caches["default"]
    backend.clear()
    assert ratelimit.hits(("status", "10.0.0.2"), ("status", "10.0.0.3")) == [1, 1]
    assert ratelimit.hits(("status", "10.0.0.2")) == [2]
    key = backend.make_and_validate_key(ratelimit._key("status", "10.0.0.2"))
    client = backend._cache.get_client(write=True)  # type: ignore[attr-defined]
    ttl = client.ttl(key)
    assert 0 < ttl <= ratelimit.WINDOW_SECONDS
    # the cache API reads the same counter
    assert backend.get(ratelimit._key("status", "10.0.0.2")) == 2
    backend.clear()
