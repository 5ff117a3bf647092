"""The paired test behind `compare` and `history`: did the candidate solve fewer tasks than the
baseline, task by task, whatever the number of graded epochs on each side?

Each task contributes the difference of its two solve rates (solved / graded epochs). Under
"no difference" a task's graded attempts of both sides are exchangeable, so the test permutes
them within the task (the candidate's share of the task's successes is hypergeometric) and
asks how often a sum of differences as low as the observed one arises: a conditional
permutation test, exact in distribution for any epoch counts, one-sided at the level asked.
With one epoch a side it is McNemar's exact test, one-sided. Seeded, so deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

RESAMPLES = 20_000


@dataclass(frozen=True)
class PairedTest:
    """The one-sided p-values of the paired permutation test, and the smallest p-value a design of
    these tasks and epochs could give at all (`floor`: every task solved by the baseline in every
    epoch and by the candidate in none); at or above the level, no outcome could show a regression."""

    change: float | None  # mean over tasks of (candidate rate - baseline rate)
    p_worse: float
    p_better: float
    floor: float


def paired_test(pairs: list[tuple[tuple[int, int], tuple[int, int]]], resamples: int = RESAMPLES, seed: int = 0) -> PairedTest:
    """The test over tasks given as ((baseline graded, solved), (candidate graded, solved)); a
    task with no graded attempt on a side is not a pair and must be left out by the caller."""
    if not pairs:
        return PairedTest(None, 1.0, 1.0, 1.0)
    n_b = np.array([b[0] for b, _ in pairs], dtype=float)
    n_c = np.array([c[0] for _, c in pairs], dtype=float)
    s_b = np.array([b[1] for b, _ in pairs], dtype=float)
    s_c = np.array([c[1] for _, c in pairs], dtype=float)
    successes = s_b + s_c
    observed = float(np.sum(s_c / n_c - s_b / n_b))
    floor = math.prod(1 / math.comb(b[0] + c[0], c[0]) for b, c in pairs)
    rng = np.random.default_rng(seed)
    drawn = rng.hypergeometric(successes.astype(np.int64), (n_b + n_c - successes).astype(np.int64),
                               n_c.astype(np.int64), size=(resamples, len(pairs)))
    totals = (drawn / n_c - (successes - drawn) / n_b).sum(axis=1)
    tolerance = 1e-9 * max(1.0, len(pairs))

    def tail(count: int) -> float:
        return (1 + count) / (1 + resamples)

    return PairedTest(observed / len(pairs), tail(int(np.sum(totals <= observed + tolerance))),
                      tail(int(np.sum(totals >= observed - tolerance))), floor)


def tasks_needed(alpha: float) -> int:
    """How many tasks that each flip from solved to unsolved (one epoch a side) a one-sided test
    at `alpha` needs before it can call a regression at all."""
    return max(1, math.ceil(math.log(alpha) / math.log(0.5)))


def holm_adjusted(p_values: list[float]) -> list[float]:
    """Holm's step-down adjusted p-values, in the order given: rejecting those below alpha keeps
    the chance of any false rejection in the family at most alpha, whatever the tests' dependence."""
    order = sorted(range(len(p_values)), key=lambda i: p_values[i])
    adjusted = [1.0] * len(p_values)
    running = 0.0
    for rank, i in enumerate(order):
        running = max(running, min(1.0, (len(p_values) - rank) * p_values[i]))
        adjusted[i] = running
    return adjusted
