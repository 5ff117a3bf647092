"""95% intervals for the report's numbers, honest when a task runs several epochs.

Epochs of one task are not independent samples (an agent that solves a task once tends to
solve it again), so rates get a Wilson interval on the effective number of samples that the
between-task spread allows, and ratios a bootstrap that resamples whole tasks. A ratio over
solved attempts (cost per solved task) has no upper bound when a resample holds no solve; the
interval says so (`None` as its upper end) instead of dropping those resamples.
"""

from __future__ import annotations

import math
import random
from typing import Callable, Sequence

Z95 = 1.959963984540054
Interval = tuple[float, float | None]


def wilson_interval(successes: float, n: float, z: float = Z95) -> tuple[float, float]:
    """The Wilson score interval for a binomial proportion; (0, 1) when n is 0."""
    if n == 0:
        return (0.0, 1.0)
    p = successes / n
    denominator = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denominator
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denominator
    return (max(0.0, centre - half), min(1.0, centre + half))


def effective_samples(counts: Sequence[tuple[int, int]]) -> float:
    """How many independent samples (graded, solved) counts per task are worth: all attempts
    when each task ran once (or there is one task), else the binomial variance over the
    cluster-robust variance of the pooled rate (small-sample corrected), between the number of
    tasks and the number of attempts; the number of tasks when every attempt agreed."""
    n = sum(graded for graded, _ in counts)
    tasks = len(counts)
    if n == 0 or tasks <= 1 or all(graded <= 1 for graded, _ in counts):
        return float(n)
    p = sum(solved for _, solved in counts) / n
    if p in (0.0, 1.0):
        return float(tasks)
    variance = sum((solved - p * graded) ** 2 for graded, solved in counts) / n**2 * tasks / (tasks - 1)
    if variance == 0:
        return float(n)
    return min(float(n), max(float(tasks), p * (1 - p) / variance))


def clustered_rate_interval(counts: Sequence[tuple[int, int]]) -> tuple[float, float]:
    """Wilson interval of the pooled rate over (graded, solved) counts per task, on the effective
    number of samples."""
    n = sum(graded for graded, _ in counts)
    if n == 0:
        return (0.0, 1.0)
    n_eff = effective_samples(counts)
    return wilson_interval(sum(solved for _, solved in counts) / n * n_eff, n_eff)


def bootstrap_interval(samples: Sequence, statistic: Callable[[list], float | None], resamples: int = 2000, seed: int = 0,
                       level: float = 0.95, unbounded_when_none: bool = False) -> Interval | None:
    """Percentile bootstrap interval of `statistic` over resampled `samples` (seeded, so
    deterministic). A resample where the statistic is None is dropped, or, with
    `unbounded_when_none`, counts as +infinity (an upper end past every value is None)."""
    if not samples:
        return None
    rng = random.Random(seed)
    values = []
    for _ in range(resamples):
        value = statistic([samples[rng.randrange(len(samples))] for _ in samples])
        if value is not None:
            values.append(value)
        elif unbounded_when_none:
            values.append(math.inf)
    if not values or all(math.isinf(value) for value in values):
        return None
    tail = (1 - level) / 2
    low, high = quantile(values, tail), quantile(values, 1 - tail)
    return (low, None if math.isinf(high) else high)


def by_task(attempts: Sequence[dict]) -> list[list[dict]]:
    """Attempts grouped by task, in first-seen order."""
    groups: dict[str, list[dict]] = {}
    for attempt in attempts:
        groups.setdefault(attempt["task"], []).append(attempt)
    return list(groups.values())


def task_bootstrap_interval(attempts: Sequence[dict], statistic: Callable[[list[dict]], float | None],
                            unbounded_when_none: bool = False) -> Interval | None:
    """Bootstrap interval of a statistic over attempts, resampling whole tasks (each drawn copy
    of a task is a task of its own, so per-task estimators see it as such)."""
    def over(sample: list[list[dict]]) -> float | None:
        return statistic([{**a, "task": f"{a['task']}#{i}"} for i, group in enumerate(sample) for a in group])

    return bootstrap_interval(by_task(attempts), over, unbounded_when_none=unbounded_when_none)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile with linear interpolation between order statistics (numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    if math.isinf(ordered[low]) or (position > low and math.isinf(ordered[high])):
        return math.inf
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)
