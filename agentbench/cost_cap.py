"""A whole run's dollar ceiling (--max-cost): an attempt starts only while what is spent, what
the attempts in flight are expected to spend and what it is expected to spend stay within it."""

from __future__ import annotations

import threading


def fits(max_usd: float, spent_usd: float, in_flight_usd: list[float], next_usd: float) -> bool:
    """Whether one more attempt expected to cost `next_usd` keeps the run within `max_usd`."""
    return spent_usd + sum(in_flight_usd) + next_usd <= max_usd


class CostCap:
    """Thread-safe accounting of a run's spending against its cap. An attempt in flight counts
    at what it has spent so far or what it was expected to spend, whichever is more."""

    def __init__(self, max_usd: float, spent_usd: float = 0.0):
        self.max_usd = max_usd
        self.spent_usd = spent_usd
        self.expected: dict[str, float] = {}
        self.so_far: dict[str, float] = {}
        self.not_started = 0
        self._lock = threading.Lock()

    @property
    def hit(self) -> bool:
        return self.not_started > 0

    def try_start(self, key: str, expected_usd: float) -> bool:
        """Reserve room for an attempt; False (and counted) when it would pass the cap."""
        with self._lock:
            in_flight = [max(self.expected[k], self.so_far.get(k, 0.0)) for k in self.expected]
            if self.not_started or not fits(self.max_usd, self.spent_usd, in_flight, expected_usd):
                self.not_started += 1
                return False
            self.expected[key] = expected_usd
            return True

    def spend(self, key: str, so_far_usd: float) -> None:
        """What an attempt in flight has spent until now."""
        with self._lock:
            self.so_far[key] = so_far_usd

    def finish(self, key: str, cost_usd: float) -> None:
        """An attempt ended: its reservation becomes what it cost."""
        with self._lock:
            self.expected.pop(key, None)
            self.so_far.pop(key, None)
            self.spent_usd += cost_usd
