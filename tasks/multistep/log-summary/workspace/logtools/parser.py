"""Parsing of access-log lines (format described in docs/ticket LOG-42)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class LogRecord:
    timestamp: str
    ip: str
    method: str
    path: str  # the request target without its query string
    status: int
    bytes: int
    latency_ms: float


def parse_line(line: str) -> LogRecord | None:
    """Parse one access-log line; return None when the line is malformed."""
    raise NotImplementedError("LOG-42")
