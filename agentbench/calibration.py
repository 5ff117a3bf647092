"""Simulations that calibrate every interval and every test that decides: the coverage of the
rate, pass@k and pass^k intervals, the false-alarm rate and power of the `compare` gate, and
the family-wise false alarms of `history`. Tasks differ in difficulty (success probabilities
drawn from a beta distribution), epochs of a task are correlated through it, and designs are
unequal (epochs per side, attempts lost to errors). `make calibrate` prints the table
(results/calibration.json); the tests run the same functions with fewer repetitions.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path

import numpy as np

from agentbench.rates import interval_over_tasks, pass_at_k, pass_hat_k
from agentbench.paired_test import paired_test

ESTIMATORS = {"pass@k": pass_at_k, "pass^k": pass_hat_k}


def population_value(estimator: str, k: int, a: float, b: float) -> float:
    """pass@k or pass^k of a task drawn from Beta(a, b) difficulty, in expectation:
    1 - E[(1 - p)^k] or E[p^k], as products of the beta function's ratios."""
    if estimator == "pass@k":
        return 1.0 - math.prod((b + j) / (a + b + j) for j in range(k))
    return math.prod((a + j) / (a + b + j) for j in range(k))


def draw_counts(rng: np.random.Generator, p: np.ndarray, epochs: int, error_share: float = 0.0) -> list[tuple[int, int]]:
    """(graded, solved) per task: `epochs` tries each (0 draws 1 to 5 per task), a share of them
    lost to errors, at least one graded."""
    tries = rng.integers(1, 6, size=len(p)) if epochs == 0 else np.full(len(p), epochs)
    graded = np.maximum(1, tries - rng.binomial(tries, error_share))
    return [(int(n), int(rng.binomial(n, q))) for n, q in zip(graded, p)]


def interval_coverage(estimator: str, k: int, tasks: int, epochs: int, a: float, b: float, runs: int = 1000,
                      seed: int = 0) -> float:
    """How often the 95% interval of `estimator` at k holds the population value, over `runs`
    suites of `tasks` tasks with Beta(a, b) difficulty."""
    rng = np.random.default_rng(seed)
    truth = population_value(estimator, k, a, b)
    held = 0
    for _ in range(runs):
        counts = dict(enumerate(draw_counts(rng, rng.beta(a, b, size=tasks), epochs)))
        low, high = interval_over_tasks(counts, ESTIMATORS[estimator], k)
        held += low <= truth <= high
    return held / runs


def gate_firing_rate(epochs_base: int, epochs_cand: int, error_share: float, runs: int = 400, tasks: int = 50,
                     shift: float = 0.0, alpha: float = 0.05, seed: int = 1) -> float:
    """How often `compare`'s gate fires at `alpha` when the candidate's per-task success is the
    baseline's plus `shift` (0: its false-alarm rate; below 0: its power), with a share of the
    candidate's attempts lost to errors."""
    rng = np.random.default_rng(seed)
    fired = 0
    for _ in range(runs):
        p = rng.beta(0.6, 0.6, size=tasks)
        base = draw_counts(rng, p, epochs_base)
        cand = draw_counts(rng, np.clip(p + shift, 0, 1), epochs_cand, error_share)
        fired += paired_test(list(zip(base, cand)), resamples=999, seed=int(rng.integers(1 << 30))).p_worse < alpha
    return fired / runs


def effect_coverage(tasks: int = 30, runs: int = 1000, seed: int = 0) -> dict[str, float]:
    """How often attribution's 95% intervals hold the true effects (model 0, the deliberate agent
    +0.2, additive on the probability), by factor, on designs where one configuration is missing
    on a third of the tasks and epochs differ by cell (1 to 3)."""
    from agentbench.attribution import fit_effects

    rng = np.random.default_rng(seed)
    level_effects = {"model": {"m1": 0.0, "m2": 0.0}, "agent": {"fast": 0.0, "deliberate": 0.2}}
    held = {factor: 0 for factor in level_effects}
    for _ in range(runs):
        attempts = []
        for t in range(tasks):
            base = rng.beta(2, 2) * 0.6
            for model, agent in (("m1", "fast"), ("m1", "deliberate"), ("m2", "fast"), ("m2", "deliberate")):
                if (model, agent) == ("m2", "deliberate") and rng.random() < 1 / 3:
                    continue
                p = base + level_effects["model"][model] + level_effects["agent"][agent]
                for _ in range(int(rng.integers(1, 4))):
                    attempts.append({"task": f"t{t}", "model": model, "agent": agent, "solved": bool(rng.random() < p),
                                     "baseline": False, "status": "graded"})
        fitted = fit_effects(attempts)
        for factor, effects in level_effects.items():
            reference = fitted["reference"][factor]
            [level] = [level for level in effects if level != reference]
            low, high = fitted["main"]["terms"][((factor, level),)]["ci95"]
            held[factor] += low <= effects[level] - effects[reference] <= high
    return {factor: count / runs for factor, count in held.items()}


def history_marks(releases: int = 10, configs: int = 1, tasks: int = 200, drift: float = 0.0, runs: int = 200,
                  resamples: int = 4000, alpha: float = 0.05, seed: int = 2) -> float:
    """How often `history` marks anything in a series of `releases` of `configs` configurations
    whose per-task success moves by `drift` per release (0: its family-wise false-alarm rate;
    below 0: its power against a slow drift). The pairs and the decision are history's own:
    paired_test for each change from the one before and from the first, then history.decide."""
    from agentbench.history import decide

    rng = np.random.default_rng(seed)
    marked = 0
    for _ in range(runs):
        changes = []
        for _ in range(configs):
            p = rng.beta(0.6, 0.6, size=tasks)
            series = [draw_counts(rng, np.clip(p + drift * r, 0, 1), 1) for r in range(releases)]
            for r in range(1, releases):
                for before in {r - 1, 0}:
                    test = paired_test(list(zip(series[before], series[r])), resamples, seed=int(rng.integers(1 << 30)))
                    changes.append({"p_value": test.p_worse, "p_improved": test.p_better})
        decide(changes, alpha)
        marked += any(c["verdict"] != "unchanged" for c in changes)
    return marked / runs


def sequential_outcomes(tasks: int = 300, epochs: int = 1, shift: float = 0.0, margin: float | None = None,
                        runs: int = 1000, alpha: float = 0.05, seed: int = 4) -> dict:
    """What `--decide` concludes over `runs` simulated bake-offs of `tasks` tasks (difficulty
    spread over (0, 1), the candidate's success the baseline's plus `shift`): the share of each
    verdict (None: undecided when the tasks ran out) and the mean share of the tasks it used."""
    from agentbench.sequential import decide

    rng = np.random.default_rng(seed)
    verdicts: dict[str, int] = {}
    used = 0.0
    for _ in range(runs):
        p = rng.beta(0.6, 0.6, size=tasks)
        base = rng.binomial(epochs, p) / epochs
        cand = rng.binomial(epochs, np.clip(p + shift, 0, 1)) / epochs
        decision = decide(list(cand - base), alpha, margin)
        verdicts[str(decision.verdict)] = verdicts.get(str(decision.verdict), 0) + 1
        used += decision.tasks / tasks
    return {"verdicts": {key: count / runs for key, count in sorted(verdicts.items())}, "tasks_used": used / runs}


def table(runs: int = 1000) -> dict:
    """The calibration table `make calibrate` writes: coverage per design, the gate's false
    alarms and power."""
    designs = [(30, 3, 0.05, 0.95), (100, 3, 0.02, 0.98), (50, 1, 0.5, 9.5), (20, 5, 0.1, 1.9), (50, 0, 1.0, 1.0),
               (10, 3, 0.3, 0.3), (50, 3, 3.0, 0.3)]
    coverage = [{"tasks": t, "epochs": e or "1-5", "difficulty": [a, b], "estimator": est, "k": k,
                 "coverage": interval_coverage(est, k, t, e, a, b, runs)}
                for t, e, a, b in designs for est, k in (("pass@k", 1), ("pass@k", 2), ("pass^k", 2)) if not e or k <= e]
    gate = [{"epochs": [eb, ec], "error_share": err, "false_alarms": gate_firing_rate(eb, ec, err, runs)}
            for eb, ec, err in ((2, 3, 0.0), (4, 5, 0.0), (1, 2, 0.0), (3, 3, 0.2))]
    power = [{"shift": shift, "power": gate_firing_rate(2, 3, 0.0, runs, shift=shift)} for shift in (-0.1, -0.2)]
    effects = {f"{tasks} tasks": effect_coverage(tasks, runs) for tasks in (20, 40)}
    history = [{"releases": 10, "configs": c, "tasks": 200, "drift": d, "marked": history_marks(10, c, 200, d, runs // 10)}
               for c, d in ((1, 0.0), (3, 0.0), (1, -0.02))]
    sequential = [{"tasks": 300, "epochs": e, "shift": d, "margin": m, **sequential_outcomes(300, e, d, m, runs)}
                  for e, d, m in ((1, 0.0, None), (1, -0.2, None), (1, -0.1, None), (2, 0.0, 0.1), (3, -0.2, None))]
    return {"runs": runs, "coverage": coverage, "gate": gate, "gate_power": power, "effect_coverage": effects,
            "history": history, "sequential": sequential}


def main(argv: list[str]) -> None:
    out = Path(argv[0]) if argv else Path("results/calibration.json")
    out.parent.mkdir(parents=True, exist_ok=True)
    result = table()
    out.write_text(json.dumps(result, indent=2))
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main(sys.argv[1:])
