"""Attribution: a model of every factor with the task taken out, checked against statsmodels
(least squares with task dummies, cluster-robust by task) and calibrated by simulation on
unbalanced, incomplete designs."""

import numpy as np
import pytest

from agentbench.attribution import attribution, f_survival, t_quantile
from agentbench.calibration import effect_coverage


def attempt(task, model, agent, solved, baseline=False, status=None, cost=0.1):
    return {"task": task, "model": model, "agent": agent, "solved": solved, "baseline": baseline, "wall_s": 1.0,
            "status": status or ("solved" if solved else "unsolved"), "cost_usd": cost, "prompt_tokens": 0,
            "completion_tokens": 0, "gpu_s": None}


def unbalanced_matrix(seed=0, tasks=12):
    """Two models x two agents, some cells with two epochs, one configuration missing on a third of the tasks."""
    rng = np.random.default_rng(seed)
    attempts = []
    for t in range(tasks):
        base = rng.uniform(0.2, 0.6)
        for model, agent in (("m1", "fast"), ("m1", "deliberate"), ("m2", "fast"), ("m2", "deliberate")):
            if (model, agent) == ("m2", "deliberate") and t % 3 == 0:
                continue
            p = base + 0.2 * (agent == "deliberate") + 0.1 * (model == "m2")
            for _ in range(1 + (t + len(model + agent)) % 2):
                attempts.append(attempt(f"t{t}", model, agent, bool(rng.random() < p)))
    return attempts


def test_effects_match_least_squares_with_task_dummies_and_clustered_errors_by_statsmodels():
    import statsmodels.api as sm

    attempts = unbalanced_matrix()
    got = attribution(attempts)
    cells = {}
    for a in attempts:
        cells.setdefault((a["task"], a["model"], a["agent"]), []).append(a["solved"])
    keys = sorted(cells)
    tasks = sorted({k[0] for k in keys})
    y = np.array([np.mean(cells[k]) for k in keys])
    x = np.array([[k[1] == "m2", k[2] == "deliberate"] + [k[0] == t for t in tasks] for k in keys], dtype=float)
    groups = np.array([tasks.index(k[0]) for k in keys])
    fit = sm.OLS(y, x).fit(cov_type="cluster", cov_kwds={"groups": groups, "use_correction": False})
    g = len(tasks)
    se = np.sqrt(np.diag(fit.cov_params())[:2] * g / (g - 1))  # CR1 with the task effects absorbed: G/(G-1)
    half = t_quantile(0.975, g - 1) * se
    model, agent = got["factors"]["model"]["levels"]["m2"], got["factors"]["agent"]["levels"]["deliberate"]
    assert got["factors"]["model"]["reference"] == "m1" and got["factors"]["agent"]["reference"] == "fast"  # in the most cells
    assert model["rate_effect"] == pytest.approx(fit.params[0], abs=1e-10)
    assert agent["rate_effect"] == pytest.approx(fit.params[1], abs=1e-10)
    assert model["rate_effect_ci95"] == pytest.approx([fit.params[0] - half[0], fit.params[0] + half[0]], abs=1e-10)
    assert agent["rate_effect_ci95"] == pytest.approx([fit.params[1] - half[1], fit.params[1] + half[1]], abs=1e-10)


def test_t_and_f_tails_match_scipy():
    from scipy import stats

    for df in (1, 3, 11.5, 29, 200):
        assert t_quantile(0.975, df) == pytest.approx(stats.t.ppf(0.975, df), rel=1e-10)
    for f, d1, d2 in ((0.5, 1, 10), (3.2, 2, 29), (7.0, 4, 5.5)):
        assert f_survival(f, d1, d2) == pytest.approx(stats.f.sf(f, d1, d2), rel=1e-9)


def test_baselines_never_enter_the_effects():
    attempts = [attempt(f"t{t}", m, a, s) for t in range(6) for m, a, s in (("m1", "fast", t % 2 == 0), ("m1", "deliberate", True))]
    attempts += [attempt(f"t{t}", "oracle", "oracle", True, baseline=True) for t in range(6)]
    attempts += [attempt(f"t{t}", "noop", "noop", False, baseline=True) for t in range(6)]
    got = attribution(attempts)
    assert set(got["factors"]["model"]["levels"]) == {"m1"}
    assert got["factors"]["agent"]["levels"]["fast"]["rate_effect"] == pytest.approx(-0.5)
    assert got["notes"][0] == "baselines left out: noop/noop, oracle/oracle"


def test_an_incomplete_design_is_adjusted_and_warned_about():
    # m2 only ever ran with the strong agent: raw rates credit m2 with the agent's +0.5; the model says 0.
    attempts = [attempt(f"t{t}", m, a, s) for t in range(8)
                for m, a, s in (("m1", "fast", False), ("m1", "deliberate", t % 2 == 0), ("m2", "deliberate", t % 2 == 0))]
    got = attribution(attempts)
    m2 = got["factors"]["model"]["levels"]["m2"]
    assert m2["rate"] - got["factors"]["model"]["levels"]["m1"]["rate"] == pytest.approx(0.25)  # the confounded raw gap
    assert m2["rate_effect"] == pytest.approx(0.0, abs=1e-12)
    assert got["factors"]["agent"]["levels"]["fast"]["rate_effect"] == pytest.approx(-0.5)
    assert any(note.startswith("incomplete design: 1 of 4 combinations") for note in got["notes"])
    assert got["interactions"] == [] and got["interaction_p"] is None


def test_an_interaction_is_estimated_and_tested():
    # the deliberate agent helps m2 by 0.5 and m1 not at all
    attempts = [attempt(f"t{t}", m, a, s) for t in range(20)
                for m, a, s in (("m1", "fast", t % 2 == 0), ("m1", "deliberate", t % 2 == 0),
                                ("m2", "fast", t % 4 == 0), ("m2", "deliberate", t % 4 != 3))]
    got = attribution(attempts)
    [term] = got["interactions"]
    assert term["terms"] == "model=m2 x agent=fast" and term["effect"] == pytest.approx(-0.5)
    assert got["interaction_p"] < 0.01
    assert any(note.startswith("the factors interact") for note in got["notes"])


def test_confounded_factors_are_refused_with_the_reason():
    attempts = [attempt(f"t{t}", m, a, t % 2 == 0) for t in range(4) for m, a in (("m1", "fast"), ("m2", "deliberate"))]
    got = attribution(attempts)
    assert got["factors"]["model"]["levels"]["m2"]["rate_effect"] is None
    assert any("confounded" in note for note in got["notes"])


@pytest.mark.parametrize("tasks", [20, 40])
def test_effect_intervals_cover_at_their_level_on_unbalanced_incomplete_designs(tasks):
    coverage = effect_coverage(tasks=tasks, runs=300, seed=5)
    assert min(coverage.values()) >= 0.93 - 2 * (0.05 * 0.95 / 300) ** 0.5, coverage


def test_each_level_keeps_its_raw_rate_and_cost_per_solved():
    # deliberate: $0.4 a try, 3 of 4 solved; fast: $0.1 a try, 1 of 4 (hand-computed)
    attempts = [attempt(t, m, "deliberate", s, cost=0.4) for t, m, s in (("t1", "m1", True), ("t2", "m1", True),
                                                                          ("t1", "m2", True), ("t2", "m2", False))]
    attempts += [attempt(t, m, "fast", s, cost=0.1) for t, m, s in (("t1", "m1", False), ("t2", "m1", False),
                                                                    ("t1", "m2", True), ("t2", "m2", False))]
    levels = attribution(attempts)["factors"]["agent"]["levels"]
    assert levels["deliberate"]["rate"] == 0.75 and levels["fast"]["rate"] == 0.25
    assert levels["deliberate"]["cost_per_solved_usd"] == pytest.approx(1.6 / 3)
    assert levels["fast"]["cost_per_solved_usd"] == pytest.approx(0.4)
    low, high = levels["deliberate"]["cost_per_solved_ci95"]
    assert low <= 1.6 / 3 <= high
