"""Intervals honest under epochs, checked against a reference: a plain bootstrap over tasks,
written out here by hand (numpy's percentiles of 20,000 task resamples)."""

import random

import numpy
import pytest

from agentbench.calibration import interval_coverage
from agentbench.intervals import (
    bootstrap_interval,
    clopper_pearson,
    effective_samples,
    task_mean_interval,
)
from agentbench.metrics import config_summary


def reference_task_bootstrap(counts, resamples=20000, seed=1):
    """Percentile interval of the rate (a mean over tasks), resampling whole tasks."""
    rng = random.Random(seed)
    rates = []
    for _ in range(resamples):
        drawn = [counts[rng.randrange(len(counts))] for _ in counts]
        rates.append(sum(c / n for n, c in drawn) / len(drawn))
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
def test_rate_interval_under_epochs_is_as_wide_as_a_task_bootstrap_at_least(counts):
    low, high = config_summary(attempts_of(counts))["ci95"]
    ref_low, ref_high = reference_task_bootstrap(counts)
    assert low <= ref_low + 0.01 and high >= ref_high - 0.01  # exact on effective samples: never narrower
    assert high - low < (ref_high - ref_low) + 0.12
    naive = clopper_pearson(sum(c for _, c in counts), sum(n for n, _ in counts))
    assert high - low > 1.3 * (naive[1] - naive[0])  # epochs treated as independent: far too narrow


@pytest.mark.parametrize("successes, n", [(0, 10), (10, 10), (7, 10), (1, 2), (3.7, 12.4), (0.5, 40.0), (150, 400)])
def test_clopper_pearson_matches_scipy_s_beta_quantiles(successes, n):
    from scipy.stats import beta

    low, high = clopper_pearson(successes, n)
    ref_low = 0.0 if successes == 0 else beta.ppf(0.025, successes, n - successes + 1)
    ref_high = 1.0 if successes == n else beta.ppf(0.975, successes + 1, n - successes)
    assert (low, high) == (pytest.approx(ref_low, abs=1e-12), pytest.approx(ref_high, abs=1e-12))
    assert clopper_pearson(0, 0) == (0.0, 1.0)


def test_effective_samples_count_tasks_when_epochs_agree_and_trials_when_tasks_do():
    counts = [(5, 5)] * 5 + [(5, 0)] * 5
    assert effective_samples([c / n for n, c in counts], [n for n, _ in counts]) == 10.0
    # mean 1/2; values .8 .2 1 0: sample variance (.09+.09+.25+.25)/3 over 4 tasks, so .25 / that = 75/17
    assert effective_samples([0.8, 0.2, 1.0, 0.0], [5] * 4) == pytest.approx(75 / 17)
    assert effective_samples([0.5] * 4, [2, 2, 4, 4]) == pytest.approx(16 / 1.5)  # no spread: every trial counts
    assert effective_samples([1.0, 0.0, 1.0], [1, 1, 1]) == 3.0


def test_one_epoch_per_task_is_exact_binomial_and_nothing_graded_is_uninformative():
    assert task_mean_interval([1.0, 0.0, 1.0], [1, 1, 1]) == clopper_pearson(2, 3)
    assert task_mean_interval([1.0] * 10, [4] * 10) == clopper_pearson(10, 10)
    assert task_mean_interval([0.0] * 10, [4] * 10)[1] > 0.2  # never a zero-width interval at none solved
    assert task_mean_interval([], []) == (0.0, 1.0)


@pytest.mark.parametrize("estimator, k, tasks, epochs, a, b", [
    ("pass@k", 1, 100, 3, 0.02, 0.98),  # rare success, where a task bootstrap covered 0.80
    ("pass@k", 1, 30, 3, 0.05, 0.95),
    ("pass@k", 2, 30, 3, 0.2, 3.8),
    ("pass^k", 2, 20, 5, 0.1, 1.9),
    ("pass@k", 1, 50, 0, 1.0, 1.0),  # 1 to 5 epochs per task
    ("pass@k", 2, 30, 2, 5.0, 5.0),
    ("pass^k", 2, 50, 3, 3.0, 0.3),  # success common
])
def test_rate_pass_at_k_and_pass_hat_k_intervals_cover_at_their_level(estimator, k, tasks, epochs, a, b):
    coverage = interval_coverage(estimator, k, tasks, epochs, a, b, runs=400, seed=3)
    assert coverage >= 0.93 - 2 * (0.05 * 0.95 / 400) ** 0.5, coverage  # nominal minus 2 points, less the simulation's error


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
