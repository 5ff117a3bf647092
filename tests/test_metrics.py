"""Every number the report prints, pinned to hand-computed or reference values."""

import pytest

from agentbench.metrics import config_summary, median, per_solved, rate, total_cost, wilson_interval


@pytest.mark.parametrize(
    "k, n, low, high",
    [
        # Reference values: statsmodels proportion_confint(k, n, method="wilson").
        (0, 10, 0.0, 0.27753279),
        (10, 10, 0.72246721, 1.0),
        (7, 10, 0.39677815, 0.89220796),
        (1, 2, 0.09453121, 0.90546879),
    ],
)
def test_wilson_interval_matches_reference(k, n, low, high):
    got = wilson_interval(k, n)
    assert got == pytest.approx((low, high), abs=1e-6)


def test_wilson_interval_of_nothing_is_uninformative():
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_rate_and_median():
    assert rate(3, 4) == 0.75
    assert rate(0, 0) is None
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert median([]) is None


def test_unknown_cost_is_never_a_silent_zero():
    assert total_cost([0.5, 0.25]) == 0.75
    assert total_cost([0.5, None]) is None
    assert per_solved(0.75, 3) == 0.25
    assert per_solved(0.75, 0) is None
    assert per_solved(None, 3) is None


def _attempt(solved, status=None, wall=1.0, prompt=10, completion=5, cost=0.01):
    return {"solved": solved, "status": status or ("solved" if solved else "unsolved"), "wall_s": wall,
            "prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": cost}


def test_config_summary_counts_infrastructure_errors_apart():
    attempts = [_attempt(True, wall=2.0), _attempt(True, wall=4.0), _attempt(False, wall=9.0),
                _attempt(False, status="error", wall=100.0)]
    summary = config_summary(attempts)
    assert summary["attempts"] == 4
    assert summary["errors"] == 1
    assert summary["solved"] == 2
    assert summary["rate"] == pytest.approx(2 / 3)
    assert summary["ci95"] == [pytest.approx(0.2077, abs=1e-4), pytest.approx(0.9385, abs=1e-4)]
    assert summary["wall_s_median"] == 4.0
    assert summary["prompt_tokens"] == 40 and summary["completion_tokens"] == 20
    assert summary["tokens_per_solved"] == 30
    assert summary["cost_usd"] == pytest.approx(0.04)
    assert summary["cost_per_solved_usd"] == pytest.approx(0.02)
