"""A size-bounded LRU cache whose entries also expire after a time-to-live.

See the ticket for the full specification. The clock is injectable so that
callers (and tests) can control time: it is any zero-argument callable that
returns the current time in seconds as a number, `time.monotonic` by default.
"""

from __future__ import annotations

import time
from typing import Any, Callable, Hashable

_MISSING = object()


class TTLCache:
    def __init__(self, maxsize: int, ttl: float, clock: Callable[[], float] = time.monotonic) -> None:
        raise NotImplementedError

    def set(self, key: Hashable, value: Any, ttl: float | None = None) -> None:
        raise NotImplementedError

    def get(self, key: Hashable, default: Any = None) -> Any:
        raise NotImplementedError

    def delete(self, key: Hashable) -> bool:
        raise NotImplementedError

    def keys(self) -> list[Hashable]:
        raise NotImplementedError

    def __contains__(self, key: object) -> bool:
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError
