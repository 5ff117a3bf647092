"""Intervals honest under epochs, checked against a reference: a plain bootstrap over tasks,
written out here by hand (numpy's percentiles of 20,000 task resamples)."""

import random

import numpy
import pytest

from agentbench.intervals import (
    bootstrap_interval,
    clustered_rate_interval,
    effective_samples,
    wilson_interval,
)
from agentbench.metrics import config_summary


def reference_task_bootstrap(counts, resamples=20000, seed=1):
    """Percentile interval of the pooled rate, resampling whole tasks."""
    rng = random.Random(seed)
    rates = []
    for _ in range(resamples):
        drawn = [counts[rng.randrange(len(counts))] for _ in counts]
        rates.append(sum(c for _, c in drawn) / sum(n for n, _ in drawn))
    return numpy.percentile(rates, [2.5, 97.5])


def attempts_of(counts, cost=0.01):
    return [{"task": f"t{t}", "solved": e < solved, "status": "solved" if e < solved else "unsolved", "wall_s": 1.0,
             "stop_reason": "submitted", "prompt_tokens": 10, "completion_tokens": 5, "cost_usd": cost, "model_s": 0.5,
             "tool_s": 0.2, "grade_s": 1.0, "queue_s": 0.0, "retries": 0, "gpu_s": None}
            for t, (epochs, solved) in enumerate(counts) for e in range(epochs)]


@pytest.mark.parametrize("counts", [
    [(5, 5)] * 5 + [(5, 0)] * 5,  # tasks either always or never solved: 10 samples' worth, not 50
    [(5, 4), (5, 1), (5, 5), (5, 0), (5, 3), (5, 2), (5, 5), (5, 0), (5, 1), (5, 4)],
    [(3, 3)] * 8 + [(3, 1)] * 4 + [(3, 0)] * 8,
])
def test_rate_interval_under_epochs_matches_a_task_bootstrap(counts):
    low, high = clustered_rate_interval(counts)
    ref_low, ref_high = reference_task_bootstrap(counts)
    assert low == pytest.approx(ref_low, abs=0.06) and high == pytest.approx(ref_high, abs=0.06)
    naive = wilson_interval(sum(c for _, c in counts), sum(n for n, _ in counts))
    assert high - low > 1.3 * (naive[1] - naive[0])  # epochs treated as independent: far too narrow


def test_ten_tasks_five_epochs_as_the_issue_saw_it():
    counts = [(5, 5)] * 5 + [(5, 0)] * 5
    low, high = config_summary(attempts_of(counts))["ci95"]
    assert (round(low, 2), round(high, 2)) == (0.24, 0.76)  # Wilson on 10 samples (the tasks), not 50
    assert effective_samples(counts) == 10.0
    # p = 1/2; residuals 1.5, -1.5, 2.5, -2.5: variance 17/400 * 4/3, so 0.25 / that = 75/17
    assert effective_samples([(5, 4), (5, 1), (5, 5), (5, 0)]) == pytest.approx(75 / 17)


def test_one_epoch_per_task_is_plain_wilson_and_unanimous_epochs_count_tasks():
    assert clustered_rate_interval([(1, 1), (1, 0), (1, 1)]) == wilson_interval(2, 3)
    assert clustered_rate_interval([(4, 4)] * 10) == wilson_interval(10, 10)
    assert clustered_rate_interval([(4, 2)]) == wilson_interval(2, 4)
    assert clustered_rate_interval([]) == (0.0, 1.0)


def test_cost_per_solved_is_unbounded_when_resamples_hold_no_solve():
    counts = [(1, 1)] + [(1, 0)] * 19  # one of twenty solved
    summary = config_summary(attempts_of(counts, cost=0.05))
    assert summary["cost_per_solved_usd"] == pytest.approx(1.0)
    low, high = summary["cost_per_solved_ci95"]
    assert high is None and low == pytest.approx(1 / 3)  # 36% of resamples hold no solve; some hold it three times
    many = config_summary(attempts_of([(1, 1)] * 15 + [(1, 0)] * 5, cost=0.05))["cost_per_solved_ci95"]
    assert many[1] is not None and many[0] <= 0.0667 <= many[1]


def test_pass_at_k_has_an_interval_over_tasks():
    summary = config_summary(attempts_of([(3, 3), (3, 0), (3, 1), (3, 2)]))
    assert set(summary["pass_at_k_ci95"]) == {"1", "2", "3"}
    low, high = summary["pass_at_k_ci95"]["1"]
    assert low <= summary["pass_at_k"]["1"] <= high


def test_bootstrap_drops_or_bounds_undefined_resamples():
    assert bootstrap_interval([1.0, 2.0], lambda xs: None) is None
    assert bootstrap_interval([1.0, 2.0], lambda xs: None, unbounded_when_none=True) is None
    low, high = bootstrap_interval([0, 0, 0, 1], lambda xs: (1 / sum(xs)) if sum(xs) else None, unbounded_when_none=True)
    assert (low, high) == (pytest.approx(1 / 3), None)
