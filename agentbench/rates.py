"""A configuration's rate, the one definition every report, gate and page uses, and the
estimators over epochs (pass@k, pass^k) with their intervals."""

from __future__ import annotations

import math
from typing import Sequence

from agentbench.intervals import task_mean_interval


def per_task(attempts: Sequence[dict]) -> dict[str, tuple[int, int]]:
    """Task -> (graded epochs, solved epochs)."""
    counts: dict[str, tuple[int, int]] = {}
    for a in attempts:
        if a["status"] == "error":
            continue
        n, c = counts.get(a["task"], (0, 0))
        counts[a["task"]] = (n + 1, c + int(a["solved"]))
    return counts


def per_task_with_errors(attempts: Sequence[dict]) -> dict[str, tuple[int, int]]:
    """Task -> (attempts, solved): per_task with errors counted as unsolved attempts."""
    return per_task([{**a, "status": "counted", "solved": False} if a["status"] == "error" else a for a in attempts])


def solve_rate(counts: dict[str, tuple[int, int]]) -> float | None:
    """A configuration's rate, the one definition every report, gate and page uses: the mean over
    its graded tasks of each task's solve rate (solved / graded epochs), so every task weighs the
    same whatever its epochs; with as many epochs on every task it is the share of attempts
    solved. None when no task was graded."""
    return mean_over_tasks(counts, pass_at_k, 1)


def rate_with_interval(counts: dict[str, tuple[int, int]]) -> tuple[float | None, list[float]]:
    """solve_rate and its 95% interval (agentbench.intervals.task_mean_interval)."""
    return solve_rate(counts), interval_over_tasks(counts, pass_at_k, 1)


def errors_on_few_tasks(attempts: Sequence[dict]) -> list[str]:
    """The tasks whose errors stand out: more than half of the configuration's errors on a fifth
    of its tasks or fewer (at least 3 errors), the pattern an endpoint failing chosen tasks leaves."""
    errors: dict[str, int] = {}
    for a in attempts:
        if a["status"] == "error":
            errors[a["task"]] = errors.get(a["task"], 0) + 1
    total, tasks = sum(errors.values()), len({a["task"] for a in attempts})
    if total < 3:
        return []
    worst = sorted(errors, key=lambda task: (-errors[task], task))[:max(1, tasks // 5)]
    return sorted(worst) if sum(errors[task] for task in worst) * 2 > total and len(errors) < tasks else []


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k for one task: the chance that at least one of k of its n epochs
    (c of them solved) succeeds, 1 - C(n-c, k) / C(n, k)."""
    if not 0 < k <= n:
        raise ValueError(f"pass@k needs 0 < k <= n (k={k}, n={n})")
    if n - c < k:
        return 1.0
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


def pass_hat_k(n: int, c: int, k: int) -> float:
    """pass^k for one task: the chance that all k of k epochs drawn from its n succeed, C(c, k) / C(n, k)."""
    if not 0 < k <= n:
        raise ValueError(f"pass^k needs 0 < k <= n (k={k}, n={n})")
    return math.comb(c, k) / math.comb(n, k)


def mean_over_tasks(counts: dict[str, tuple[int, int]], estimator, k: int) -> float | None:
    """An estimator (pass_at_k or pass_hat_k) averaged over tasks with at least k graded epochs."""
    values = [estimator(n, c, k) for n, c in counts.values() if n >= k]
    return sum(values) / len(values) if values else None


def interval_over_tasks(counts: dict[str, tuple[int, int]], estimator, k: int) -> list[float]:
    """The 95% interval of mean_over_tasks: each task with n >= k graded epochs holds n // k
    independent draws of k (agentbench.intervals.task_mean_interval)."""
    kept = [(n, c) for n, c in counts.values() if n >= k]
    low, high = task_mean_interval([estimator(n, c, k) for n, c in kept], [n // k for n, _ in kept])
    return [low, high]
