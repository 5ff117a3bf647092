"""Exchange-rate lookups, cached so the upstream service is not hammered.

This module is the first user of `ttlcache.TTLCache`.
"""

from __future__ import annotations

from typing import Callable

from ttlcache import TTLCache


class RateClient:
    def __init__(self, fetch: Callable[[str], float], cache: TTLCache | None = None) -> None:
        self._fetch = fetch
        self._cache = cache if cache is not None else TTLCache(maxsize=256, ttl=300)
        self.upstream_calls = 0

    def rate(self, pair: str) -> float:
        cached = self._cache.get(pair)
        if cached is not None:
            return cached
        self.upstream_calls += 1
        value = self._fetch(pair)
        self._cache.set(pair, value)
        return value
