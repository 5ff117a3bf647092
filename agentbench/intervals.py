"""95% intervals for the report's numbers, honest when a task runs several epochs.

Epochs of one task are not independent samples (an agent that solves a task once tends to
solve it again), so rates (means over tasks) get an exact binomial interval on the effective
number of samples that the between-task spread allows, and ratios a bootstrap that resamples
whole tasks. A ratio over
solved attempts (cost per solved task) has no upper bound when a resample holds no solve; the
interval says so (`None` as its upper end) instead of dropping those resamples.
"""

from __future__ import annotations

import math
import random
from typing import Callable, Sequence

Z95 = 1.959963984540054
Interval = tuple[float | None, float | None]


def regularized_beta(x: float, a: float, b: float) -> float:
    """I_x(a, b), the beta distribution's CDF at x, by its continued fraction (Lentz's method)."""
    if x <= 0.0:
        return 0.0
    if x >= 1.0:
        return 1.0
    if x > (a + 1) / (a + b + 2):
        return 1.0 - regularized_beta(1.0 - x, b, a)
    front = math.exp(math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b) + a * math.log(x) + b * math.log1p(-x))
    tiny = 1e-300

    def guarded(value: float) -> float:
        return tiny if abs(value) < tiny else value

    c, d = 1.0, 1.0 / guarded(1.0 - (a + b) * x / (a + 1))
    fraction = d
    for m in range(1, 500):
        for numerator in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                          -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1.0 / guarded(1.0 + numerator * d)
            c = guarded(1.0 + numerator / c)
            fraction *= d * c
        if abs(d * c - 1.0) < 1e-15:
            break
    return front * fraction / a


def beta_quantile(q: float, a: float, b: float) -> float:
    """The q-quantile of Beta(a, b), by bisection on its CDF."""
    low, high = 0.0, 1.0
    for _ in range(100):
        middle = (low + high) / 2
        if regularized_beta(middle, a, b) < q:
            low = middle
        else:
            high = middle
    return (low + high) / 2


def clopper_pearson(successes: float, n: float, level: float = 0.95) -> tuple[float, float]:
    """The exact (Clopper-Pearson) interval for a proportion, from beta quantiles, so a
    fractional count works too; (0, 1) when n is 0."""
    if n <= 0:
        return (0.0, 1.0)
    tail = (1 - level) / 2
    low = 0.0 if successes <= 0 else beta_quantile(tail, successes, n - successes + 1)
    high = 1.0 if successes >= n else beta_quantile(1 - tail, successes + 1, n - successes)
    return (low, high)


def effective_samples(values: Sequence[float], units: Sequence[int]) -> float:
    """How many independent trials a mean over tasks of per-task estimates in [0, 1] is worth:
    the binomial variance of the mean over its variance estimated from the spread between tasks,
    between the number of tasks and `T^2 / sum(1 / units)` (each task's independent trials
    counted, as if no task were harder than another); the number of tasks when every value is 0
    or every one is 1."""
    tasks = len(values)
    if tasks == 0:
        return 0.0
    most = tasks * tasks / sum(1 / unit for unit in units)
    mean = sum(values) / tasks
    if tasks == 1 or mean in (0.0, 1.0):
        return float(tasks) if mean in (0.0, 1.0) else most
    variance = sum((value - mean) ** 2 for value in values) / (tasks - 1) / tasks
    if variance == 0:
        return most
    return min(most, max(float(tasks), mean * (1 - mean) / variance))


def task_mean_interval(values: Sequence[float], units: Sequence[int]) -> tuple[float, float]:
    """95% interval of a mean over tasks of per-task estimates in [0, 1] (a solve rate, pass@k,
    pass^k), with `units` independent trials behind each task's estimate: Clopper-Pearson on the
    effective number of trials, so it never collapses at 0 or at all solved and keeps its
    coverage when success is rare; (0, 1) without tasks."""
    if not values:
        return (0.0, 1.0)
    n_eff = effective_samples(values, units)
    return clopper_pearson(sum(values) / len(values) * n_eff, n_eff)


def bootstrap_interval(samples: Sequence, statistic: Callable[[list], float | None], resamples: int = 2000, seed: int = 0,
                       level: float = 0.95, unbounded_when_none: bool = False) -> Interval | None:
    """Percentile bootstrap interval of `statistic` over resampled `samples` (seeded, so
    deterministic). A resample where the statistic is None is dropped, or, with
    `unbounded_when_none`, counts as +infinity; the statistic may also return -inf or +inf
    itself. An end beyond every finite value is None (unbounded)."""
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
    return (None if math.isinf(low) else low, None if math.isinf(high) else high)


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
    """The q-quantile with linear interpolation between order statistics (numpy's default);
    infinite where it falls next to an infinite value on that side."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = (len(ordered) - 1) * q
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    below, above = ordered[low], ordered[high]
    if position == low or below == -math.inf:
        return below
    if above == math.inf:
        return math.inf
    return below + (above - below) * (position - low)
