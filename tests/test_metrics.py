"""Every number the report prints, pinned to hand-computed or reference values."""

import pytest

from agentbench.comparison import paired_comparison
from agentbench.calibration import gate_firing_rate
from agentbench.intervals import bootstrap_interval, quantile
from agentbench.metrics import (
    anytime_curve,
    broken_tasks,
    config_summary,
    median,
    output_tokens_per_second,
    pareto_frontier,
    per_solved,
    time_breakdown,
    wall_by_node,
    total_cost,
)
from agentbench.rates import pass_at_k, pass_hat_k


def test_errors_left_out_of_the_rate_are_also_counted_as_failures_and_concentrated_ones_named():
    from agentbench.rates import errors_on_few_tasks

    attempts = [_attempt(True, task=f"t{i}") for i in range(8)] + [_attempt(False, task="t8")]
    attempts += [_attempt(False, status="error", task="t9", stop_reason="model_error") for _ in range(3)]
    summary = config_summary(attempts)
    assert summary["rate"] == pytest.approx(8 / 9) and summary["rate_with_errors"] == pytest.approx(8 / 10)
    assert summary["errors_on_few_tasks"] == ["t9"]  # all three errors on one task of ten
    spread = [_attempt(False, status="error", task=f"t{i}", stop_reason="model_error") for i in range(5)]
    assert errors_on_few_tasks(spread + [_attempt(True, task=f"t{i}") for i in range(5)]) == []


def test_median():
    assert median([3.0, 1.0, 2.0]) == 2.0
    assert median([1.0, 2.0, 3.0, 10.0]) == 2.5
    assert median([]) is None


def test_unknown_cost_is_never_a_silent_zero():
    assert total_cost([0.5, 0.25]) == 0.75
    assert total_cost([0.5, None]) is None
    assert per_solved(0.75, 3) == 0.25
    assert per_solved(0.75, 0) is None
    assert per_solved(None, 3) is None


def _attempt(solved, status=None, wall=1.0, prompt=10, completion=5, cost=0.01, task="t", stop_reason="submitted"):
    return {"task": task, "solved": solved, "status": status or ("solved" if solved else "unsolved"), "wall_s": wall,
            "stop_reason": stop_reason,
            "prompt_tokens": prompt, "completion_tokens": completion, "cost_usd": cost,
            "model_s": wall / 2, "tool_s": wall / 4, "grade_s": 1.0, "queue_s": 0.0, "retries": 0, "gpu_s": None}


def test_config_summary_counts_infrastructure_errors_apart():
    attempts = [_attempt(True, wall=2.0, task="a"), _attempt(True, wall=4.0, task="b"), _attempt(False, wall=9.0, task="c"),
                _attempt(False, status="error", wall=100.0, task="d", stop_reason="grader_error")]
    summary = config_summary(attempts)
    assert summary["attempts"] == 4
    assert summary["errors"] == 1 and summary["errors_by_kind"] == {"grader_error": 1}
    assert summary["solved"] == 2
    assert summary["rate"] == pytest.approx(2 / 3)
    assert summary["ci95"] == [pytest.approx(0.0943, abs=1e-4), pytest.approx(0.9916, abs=1e-4)]  # exact for 2 of 3: beta.ppf(.025, 2, 2), beta.ppf(.975, 3, 1)
    assert summary["wall_s_median"] == 4.0
    assert summary["prompt_tokens"] == 40 and summary["completion_tokens"] == 20
    assert summary["tokens_per_solved"] == 30
    assert summary["cost_usd"] == pytest.approx(0.04)
    assert summary["cost_per_solved_usd"] == pytest.approx(0.02)
    assert summary["wall_s_p90"] == pytest.approx(8.0)  # numpy.quantile([2, 4, 9], 0.9)
    assert summary["pass_at_k"] == {}  # one epoch: no pass@k
    assert summary["output_tokens_per_s"] == pytest.approx(20 / 57.5)
    assert summary["wall_s_per_solved"] == pytest.approx(115 / 2)  # all wall time, errors included, over 2 solved
    low, high = summary["tokens_per_solved_ci95"]
    assert low <= 30 and high is None  # 1 in 16 task resamples holds no solve: no upper bound at 95%


def test_quantile_matches_numpy_linear():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert quantile(values, 0.9) == pytest.approx(7.6)  # numpy.quantile(values, 0.9)
    assert quantile(values, 0.5) == 3.0
    assert quantile([5.0], 0.9) == 5.0
    assert quantile([], 0.9) is None


@pytest.mark.parametrize("n, c, k", [(5, 0, 1), (5, 1, 1), (5, 2, 3), (10, 3, 5), (4, 4, 2), (6, 5, 2)])
def test_pass_at_k_is_the_combinatorial_estimator(n, c, k):
    # 1 - P(all k drawn without replacement from n are failures), computed by enumeration.
    from itertools import combinations

    draws = list(combinations(range(n), k))
    expected = sum(1 for d in draws if any(i < c for i in d)) / len(draws)
    assert pass_at_k(n, c, k) == pytest.approx(expected)
    all_solved = sum(1 for d in draws if all(i < c for i in d)) / len(draws)
    assert pass_hat_k(n, c, k) == pytest.approx(all_solved)


def test_pass_at_k_rejects_k_beyond_n():
    with pytest.raises(ValueError):
        pass_at_k(2, 1, 3)


def test_pareto_frontier_on_a_hand_drawn_set():
    points = {
        "A": (0.9, 10.0),   # best rate
        "B": (0.6, 2.0),    # cheap
        "C": (0.5, 5.0),    # dominated by B: lower rate, higher cost
        "D": (0.9, 12.0),   # dominated by A: same rate, higher cost
        "E": (0.2, 1.0),    # cheapest
        "F": (0.7, None),   # unknown cost: not placed
        "G": (0.0, 0.0),    # solves nothing for free: never a frontier point
    }
    result = pareto_frontier(points)
    assert {name for name, by in result.items() if by is None} == {"A", "B", "E"}
    assert "F" not in result and "G" not in result
    assert result["C"] == "B" and result["D"] == "A"


def test_a_configuration_that_solves_nothing_is_off_every_frontier():
    from agentbench.report import mark_frontiers

    configs = [{"model": "noop", "agent": "noop", "rate": 0.0, "cost_per_attempt_usd": 0.0, "wall_s_median": 0.1},
               {"model": "m", "agent": "fast", "rate": 0.5, "cost_per_attempt_usd": 0.2, "wall_s_median": 9.0}]
    mark_frontiers(configs)
    assert configs[0]["frontier"] == {"cost": False, "time": False}
    assert configs[1]["frontier"] == {"cost": True, "time": True}


def test_cost_per_solved_says_unknown_apart_from_unbounded():
    from agentbench.report import cost_per_solved_text

    solved, unsolved = _attempt(True, task="a"), _attempt(False, task="b")
    unknown = config_summary([solved, {**unsolved, "cost_usd": None}])
    assert unknown["cost_per_solved_none"] == "unknown" and unknown["cost_per_solved_ci95"] is None  # no interval
    nothing = config_summary([{**solved, "solved": False, "status": "unsolved"}, unsolved])
    assert nothing["cost_per_solved_none"] == "unbounded" and nothing["cost_per_solved_ci95"] is None
    known = config_summary([solved, unsolved])
    assert known["cost_per_solved_none"] is None and known["cost_per_solved_usd"] == pytest.approx(0.02)
    assert [cost_per_solved_text(c) for c in (unknown, nothing, known)] == ["unknown", "unbounded", "$0.0200"]


def test_the_cost_change_interval_keeps_resamples_where_one_side_solves_nothing():
    baseline = _run({f"t{i}": i < 2 for i in range(8)})  # 2 of 8: many resamples hold no solve
    candidate = _run({f"t{i}": i < 6 for i in range(8)})
    low, high = paired_comparison(baseline, candidate)["cost_per_solved_change_ci95"]
    assert low is None and high < 0  # the baseline's cost per solved is unbounded in some resamples: no lower end


def test_bootstrap_interval_is_deterministic_and_brackets_the_estimate():
    samples = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0]
    mean = lambda xs: sum(xs) / len(xs)
    low, high = bootstrap_interval(samples, mean)
    assert low < 4.5 < high
    assert bootstrap_interval(samples, mean) == (low, high)
    assert bootstrap_interval([], mean) is None
    assert bootstrap_interval(samples, lambda xs: None) is None


def _run(outcomes, cost=0.1):
    return [{"task": t, "solved": s, "status": "solved" if s else "unsolved", "cost_usd": cost} for t, s in outcomes.items()]


def test_paired_comparison_names_regressions_and_improvements():
    baseline = _run({"t1": True, "t2": True, "t3": True, "t4": False, "t5": True})
    candidate = _run({"t1": False, "t2": False, "t3": True, "t4": True, "t5": True, "t9": True}, cost=0.2)
    result = paired_comparison(baseline, candidate)
    assert result["tasks"] == 5
    assert (result["regressed"], result["improved"]) == (["t1", "t2"], ["t4"])
    assert result["p_value"] == pytest.approx(0.5, abs=0.01)  # 2 vs 1 discordant pairs: P(2 or more of 3 go down) = 1/2
    assert result["unpaired_tasks"] == ["t9"] and result["change"] == pytest.approx(-0.2)
    assert (result["baseline_rate"], result["candidate_rate"]) == (0.8, 0.6)
    assert result["baseline_cost_per_solved_usd"] == pytest.approx(0.5 / 4)
    assert result["candidate_cost_per_solved_usd"] == pytest.approx(1.0 / 3)
    assert result["cost_per_solved_change_usd"] == pytest.approx(1.0 / 3 - 0.125)
    low, high = result["cost_per_solved_change_ci95"]
    assert low <= result["cost_per_solved_change_usd"] <= high


def test_config_summary_gives_pass_at_k_over_epochs():
    attempts = [{"task": t, "solved": s, "status": "solved" if s else "unsolved", "wall_s": 1.0, "model_s": 0.5,
                 "tool_s": 0.2, "grade_s": 0.3, "prompt_tokens": 0, "completion_tokens": 0, "cost_usd": 0.0,
                 "queue_s": 0.0, "retries": 0, "gpu_s": None}
                for t, s in [("a", True), ("a", False), ("a", True), ("b", False), ("b", False), ("b", False)]]
    summary = config_summary(attempts)
    assert summary["pass_at_k"]["1"] == pytest.approx((2 / 3 + 0) / 2)
    assert summary["pass_at_k"]["3"] == pytest.approx((1 + 0) / 2)
    assert summary["pass_hat_k"]["2"] == pytest.approx((1 / 3 + 0) / 2)
    assert summary["pass_hat_k"]["3"] == 0.0
    assert summary["cost_per_solved_usd"] == 0.0 and summary["cost_per_attempt_usd"] == 0.0


def _timed(task, solved, wall, cost=0.0, model_s=0.0, tool_s=0.0, grade_s=0.0, completion=0, status=None, queue_s=0.0, **factors):
    return {"task": task, "solved": solved, "status": status or ("solved" if solved else "unsolved"), "wall_s": wall,
            "cost_usd": cost, "model_s": model_s, "tool_s": tool_s, "grade_s": grade_s, "completion_tokens": completion,
            "queue_s": queue_s, **factors}


def test_anytime_curve_counts_solved_attempts_within_each_budget():
    attempts = [_timed("a", True, 5.0, cost=0.3), _timed("b", False, 1.0), _timed("c", True, 2.0, cost=0.1),
                _timed("d", True, 9.0, cost=0.2), _timed("e", False, 3.0, status="error")]
    assert anytime_curve(attempts, "wall_s") == [(2.0, 0.25), (5.0, 0.5), (9.0, 0.75)]
    assert anytime_curve(attempts, "cost_usd") == [(0.1, 0.25), (0.2, 0.5), (0.3, 0.75)]
    assert anytime_curve([], "wall_s") == []
    # unequal epochs: a solved 1 of its 2 epochs (1/4 of the rate), b its only one (1/2); the curve ends at the rate
    epochs = [_timed("a", True, 1.0), _timed("a", False, 2.0), _timed("b", True, 3.0)]
    assert anytime_curve(epochs, "wall_s") == [(1.0, 0.25), (3.0, 0.75)] and config_summary_rate(epochs) == 0.75


def config_summary_rate(attempts):
    from agentbench.rates import per_task, solve_rate

    return solve_rate(per_task(attempts))


def test_time_breakdown_and_output_speed():
    attempts = [_timed("a", True, 10.0, model_s=6.0, tool_s=3.0, grade_s=2.0, completion=300),
                _timed("b", False, 5.0, model_s=3.0, tool_s=0.5, grade_s=1.0, completion=200, queue_s=1.0)]
    assert time_breakdown(attempts) == pytest.approx({"model_s": 9.0, "queue_s": 1.0, "tools_s": 3.5, "grading_s": 3.0, "harness_s": 1.5})
    assert output_tokens_per_second(attempts) == pytest.approx(500 / 9)
    assert output_tokens_per_second([_timed("a", True, 1.0)]) is None


@pytest.mark.parametrize("regressed, improved", [(6, 0), (5, 2), (3, 3), (0, 4), (9, 3)])
def test_the_paired_test_with_one_epoch_a_side_is_mcnemar_one_sided(regressed, improved):
    from scipy.stats import binomtest

    from agentbench.paired_test import paired_test

    pairs = [((1, 1), (1, 0))] * regressed + [((1, 0), (1, 1))] * improved + [((1, 1), (1, 1))] * 4
    test = paired_test(pairs)
    n = regressed + improved
    assert test.p_worse == pytest.approx(binomtest(regressed, n, 0.5, alternative="greater").pvalue, abs=0.006)
    assert test.p_better == pytest.approx(binomtest(improved, n, 0.5, alternative="greater").pvalue, abs=0.006)
    assert test.floor == pytest.approx(0.5 ** len(pairs))


@pytest.mark.parametrize("epochs_base, epochs_cand, error_share", [(2, 3, 0.0), (4, 5, 0.0), (1, 2, 0.0), (3, 3, 0.2)])
def test_the_gate_s_false_alarms_stay_at_its_level_under_unequal_epochs_and_missing_attempts(epochs_base, epochs_cand,
                                                                                               error_share):
    rate = gate_firing_rate(epochs_base, epochs_cand, error_share)
    assert rate <= 0.05 + 2 * (0.05 * 0.95 / 400) ** 0.5, rate  # nominal plus two standard errors of the simulation


def test_the_gate_catches_a_real_drop():
    assert gate_firing_rate(2, 3, 0.0, runs=100, shift=-0.2) >= 0.9


def test_broken_tasks_come_from_the_oracle_and_from_checks_that_cannot_start():
    def row(task, model, status, grade_status):
        return {"task": task, "model": model, "baseline": model == "oracle", "status": status,
                "solved": status == "solved", "grade_status": grade_status}

    attempts = [row("a", "oracle", "solved", "passed"), row("b", "oracle", "unsolved", "failed"),
                row("c", "m", "error", "broken"), row("d", "oracle", "error", None), row("e", "m", "unsolved", "failed"),
                row("f", "oracle", "tampered", "tampered")]
    assert broken_tasks(attempts) == {"b": "the oracle's reference solution was graded failed", "c": "its check cannot start",
                                      "f": "the oracle's reference solution was graded tampered"}


def test_a_regression_is_never_called_on_broken_tasks():
    baseline = [_attempt(True, task=t) for t in "abc"]
    candidate = [_attempt(False, task="a"), _attempt(True, task="b"), _attempt(True, task="c")]
    assert paired_comparison(baseline, candidate)["regressed"] == ["a"]
    result = paired_comparison(baseline, candidate, broken={"a"})
    assert (result["regressed"], result["tasks"], result["broken_left_out"]) == ([], 2, ["a"])


def test_valid_tool_call_share_pools_calls_not_attempts():
    from agentbench.metrics import valid_tool_call_share

    attempts = [{"tool_call_checks": 10, "valid_tool_calls": 9}, {"tool_call_checks": 2, "valid_tool_calls": 0},
                {"tool_call_checks": 0, "valid_tool_calls": 0}]
    assert valid_tool_call_share(attempts) == pytest.approx(9 / 12)  # not the mean of 0.9 and 0.0
    assert valid_tool_call_share([{"tool_call_checks": 0, "valid_tool_calls": 0}]) is None


def test_wall_by_node_splits_attempts_and_their_seconds_by_the_node_that_ran_them():
    import pandas as pd

    attempts = [{**_timed(task, solved, wall), "node": node} for task, solved, wall, node in
                [("a", True, 4.0, "h:1"), ("b", False, 2.0, "h:2"), ("c", True, 6.0, "h:1"), ("d", True, 8.0, None)]]
    reference = pd.DataFrame(attempts).fillna({"node": "unknown"}).groupby("node").agg(
        attempts=("wall_s", "size"), solved=("solved", "sum"), wall_s=("wall_s", "sum"))
    reference["wall_share"] = reference["wall_s"] / reference["wall_s"].sum()
    for node, expected in reference.to_dict("index").items():
        assert wall_by_node(attempts)[node] == pytest.approx(expected)
    assert list(wall_by_node(attempts)) == ["h:1", "h:2", "unknown"]
    assert wall_by_node([{**_timed("a", False, 0.0), "node": "h"}]) == {"h": {"attempts": 1, "solved": 0, "wall_s": 0.0, "wall_share": None}}
