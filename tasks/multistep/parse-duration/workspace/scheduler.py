"""Tiny job scheduler: computes when a job runs next from its `every` setting."""

from __future__ import annotations

from dataclasses import dataclass

from durations import format_duration, parse_duration


@dataclass
class Job:
    name: str
    every: str  # a duration string, see DURATIONS.md
    last_run: int = 0  # unix timestamp, 0 = never ran

    @property
    def interval(self) -> int:
        seconds = parse_duration(self.every)
        if seconds == 0:
            raise ValueError(f"job {self.name!r}: interval must be positive")
        return seconds

    def next_run(self) -> int:
        return self.last_run + self.interval

    def describe(self) -> str:
        return f"{self.name}: every {format_duration(self.interval)}"
