"""The Jinja2 filters the pages format numbers with; a number not known shows as such, never zero."""

from __future__ import annotations

import json

from agentbench.books import books_line
from agentbench.sequential import decision_line
from agentbench.report import cost_per_solved_text, percent, usd


def seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def interval(bounds: list | None) -> str:
    """A rate's 95% interval as `[40%, 70%]`."""
    return "" if not bounds else f"[{percent(bounds[0])}, {percent(bounds[1])}]"


def usd_interval(bounds: list | None) -> str:
    """A cost's interval; an end that is None is unbounded."""
    return "" if not bounds else "[" + ", ".join("unbounded" if end is None else usd(end) for end in bounds) + "]"


def pretty_json(value) -> str:
    return json.dumps(value, indent=2, sort_keys=True)


FILTERS = {"percent": percent, "usd": usd, "seconds": seconds, "count": count, "interval": interval,
           "usd_interval": usd_interval, "pretty_json": pretty_json, "cost_per_solved": cost_per_solved_text,
           "books": books_line, "decision": decision_line}
