"""Pure functions that turn stored attempts into the numbers reports print."""

from __future__ import annotations

import math
from statistics import median as _median
from typing import Iterable, Sequence

Z95 = 1.959963984540054


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion; (0, 1) when n is 0."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def rate(successes: int, n: int) -> float | None:
    """successes / n, or None when nothing was graded."""
    return successes / n if n else None


def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return _median(values) if values else None


def total_cost(costs: Iterable[float | None]) -> float | None:
    """The sum of attempt costs; None when any is unknown (never a silent zero)."""
    costs = list(costs)
    if any(cost is None for cost in costs):
        return None
    return sum(costs)


def per_solved(total: float | None, solved: int) -> float | None:
    """A total divided over the solved tasks; None when none was solved or the total is unknown."""
    if total is None or solved == 0:
        return None
    return total / solved


def config_summary(attempts: Sequence[dict]) -> dict:
    """Rate, interval, time, tokens and cost for the attempts of one configuration.

    Attempts whose status is `error` (the harness failed, not the agent) are counted
    apart and left out of the rate.
    """
    graded = [a for a in attempts if a["status"] != "error"]
    solved = sum(1 for a in graded if a["solved"])
    low, high = wilson_interval(solved, len(graded))
    prompt = sum(a["prompt_tokens"] for a in attempts)
    completion = sum(a["completion_tokens"] for a in attempts)
    cost = total_cost(a["cost_usd"] for a in attempts)
    return {
        "attempts": len(attempts),
        "errors": len(attempts) - len(graded),
        "solved": solved,
        "rate": rate(solved, len(graded)),
        "ci95": [round(low, 4), round(high, 4)],
        "wall_s_median": median(a["wall_s"] for a in graded),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "tokens_per_solved": per_solved(prompt + completion, solved),
        "cost_usd": cost,
        "cost_per_solved_usd": per_solved(cost, solved),
    }
