"""Human-friendly durations for job schedules ("every: 1h30m").

The accepted syntax is specified in DURATIONS.md.
"""

from __future__ import annotations

UNIT_SECONDS = {"w": 604800, "d": 86400, "h": 3600, "m": 60, "s": 1}


def parse_duration(text: str) -> int:
    """Parse a duration such as "1h30m" or "2d 4h" and return it in whole seconds."""
    raise NotImplementedError


def format_duration(seconds: int) -> str:
    """Format a number of seconds in the canonical compact form, e.g. 5400 -> "1h30m"."""
    raise NotImplementedError
