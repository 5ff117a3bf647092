"""Which factor (model, agent, ...) moved the rate: one linear model of every factor at once,
fitted to each (task, configuration) cell's solve rate with the task's own difficulty taken out
(task fixed effects), so an unbalanced or incomplete matrix does not credit one factor with
another's effect. Intervals are cluster-robust by task (CR1, t with tasks - 1 degrees of
freedom); two-way interactions are fitted in a second model and tested together (a Wald F test).
Baselines (oracle, noop) are left out: they are no level of any factor a user chooses between.
"""

from __future__ import annotations

from itertools import combinations
from typing import Sequence

import numpy as np

from agentbench.intervals import beta_quantile, regularized_beta
from agentbench.metrics import cost_per_solved_of, per_solved_interval
from agentbench.rates import per_task, rate_with_interval

FACTORS = ("model", "agent")


def attribution(attempts: Sequence[dict], factors: Sequence[str] = FACTORS) -> dict:
    """Each factor's levels (raw rate and cost, and the rate effect against its reference level
    adjusted for every other factor and the task, with a 95% interval), the two-way interactions
    and their joint test, and notes on what the design allows."""
    kept = [a for a in attempts if not a["baseline"]]
    fitted = fit_effects(kept, factors)
    notes = fitted["notes"]
    if len(kept) < len(attempts):
        notes.insert(0, "baselines left out: " + ", ".join(sorted({f"{a['model']}/{a['agent']}" for a in attempts if a["baseline"]})))
    return {
        "factors": {f: {"reference": fitted["reference"].get(f), "levels": _levels(kept, f, fitted["reference"].get(f), fitted["main"])}
                    for f in factors},
        "interactions": fitted["interactions"],
        "interaction_p": fitted["interaction_p"],
        "tasks": fitted["tasks"],
        "notes": notes,
    }


def fit_effects(attempts: Sequence[dict], factors: Sequence[str] = FACTORS) -> dict:
    """The two models behind attribution, on graded attempts: each varying factor's reference
    level (the one in the most cells), the main-effects fit (None when confounded), the
    interactions when the design is complete, and the notes on the design."""
    cells: dict[tuple, list[dict]] = {}
    for a in attempts:
        if a["status"] != "error":
            cells.setdefault((a["task"], tuple(a[f] for f in factors)), []).append(a)
    rows = [(task, dict(zip(factors, levels)), sum(a["solved"] for a in group) / len(group))
            for (task, levels), group in sorted(cells.items())]
    varying = [f for f in factors if len({r[1][f] for r in rows}) > 1]
    reference = {f: _most_common([r[1][f] for r in rows]) for f in varying}
    others = {f: [level for level in sorted({r[1][f] for r in rows}) if level != reference[f]] for f in varying}
    main_terms = [((f, level),) for f in varying for level in others[f]]
    main = _fit(rows, main_terms)
    notes = []
    if main is None and main_terms:
        notes.append("the factors are confounded (some levels only ever ran together), so no effect can be told apart")
    pair_terms = [((f, x), (g, y)) for f, g in combinations(varying, 2) for x in others[f] for y in others[g]]
    observed = {tuple(r[1][f] for f in varying) for r in rows}
    full = int(np.prod([len(others[f]) + 1 for f in varying]))
    complete = len(observed) == full
    interaction = _fit(rows, main_terms + pair_terms) if pair_terms and complete else None
    if not complete:
        notes.append(f"incomplete design: {full - len(observed)} of {full} combinations of {' x '.join(varying)} never ran, so "
                     "their interactions cannot be estimated and the effects assume there are none")
    elif interaction is not None and interaction["p"] is not None and interaction["p"] < 0.05:
        notes.append(f"the factors interact (p={interaction['p']:.2g}): one factor's effect depends on the other's level, "
                     "so read the configurations, not only these effects")
    return {"reference": reference, "main": main, "notes": notes, "tasks": len({r[0] for r in rows}),
            "interactions": [] if interaction is None else [
                {"terms": " x ".join(f"{f}={level}" for f, level in term), **interaction["terms"][term]} for term in pair_terms],
            "interaction_p": None if interaction is None else interaction["p"]}


def _most_common(values: list[str]) -> str:
    return max(sorted(set(values)), key=values.count)


def _levels(attempts: list[dict], factor: str, reference: str | None, fit: dict | None) -> dict:
    """Per level of a factor: its raw numbers, and its adjusted effect against the reference."""
    levels = {}
    for level in sorted({a[factor] for a in attempts}):
        group = [a for a in attempts if a[factor] == level]
        solve, interval = rate_with_interval(per_task(group))
        term = fit["terms"].get(((factor, level),)) if fit else None
        levels[level] = {
            "attempts": len(group), "rate": solve, "ci95": interval,
            "rate_effect": 0.0 if level == reference else None if term is None else term["effect"],
            "rate_effect_ci95": None if term is None else term["ci95"],
            "cost_per_solved_usd": cost_per_solved_of(group),
            "cost_per_solved_ci95": per_solved_interval(group, cost_per_solved_of),
        }
    return levels


def _fit(rows: list[tuple[str, dict, float]], terms: list[tuple]) -> dict | None:
    """Least squares of the cell rates on the terms' indicators after removing each task's mean
    (its fixed effect); None when the terms cannot be told apart on these cells."""
    if not terms:
        return None
    tasks = sorted({task for task, _, _ in rows})
    x = np.array([[float(all(levels[f] == level for f, level in term)) for term in terms] for _, levels, _ in rows])
    y = np.array([value for _, _, value in rows])
    groups = [np.array([i for i, row in enumerate(rows) if row[0] == task]) for task in tasks]
    for index in groups:
        x[index] -= x[index].mean(axis=0)
        y[index] -= y[index].mean()
    if np.linalg.matrix_rank(x) < len(terms):
        return None
    bread = np.linalg.inv(x.T @ x)
    beta = bread @ x.T @ y
    residuals = y - x @ beta
    clusters = len(groups)
    meat = sum(np.outer(x[i].T @ residuals[i], x[i].T @ residuals[i]) for i in groups)
    covariance = bread @ meat @ bread * clusters / max(1, clusters - 1)
    df = clusters - 1
    half = t_quantile(0.975, df) * np.sqrt(np.diag(covariance)) if df > 0 else np.full(len(terms), np.inf)
    result = {"terms": {term: {"effect": float(b), "ci95": None if not np.isfinite(h) else [float(b - h), float(b + h)]}
                        for term, b, h in zip(terms, beta, half)}, "p": None}
    pairs = [i for i, term in enumerate(terms) if len(term) == 2]
    if pairs and df > len(pairs):
        sub = covariance[np.ix_(pairs, pairs)]
        if np.linalg.matrix_rank(sub) == len(pairs):
            statistic = float(beta[pairs] @ np.linalg.inv(sub) @ beta[pairs]) / len(pairs)
            result["p"] = f_survival(statistic, len(pairs), df)
    return result


def t_quantile(q: float, df: float) -> float:
    """Student's t quantile for q > 0.5, from the beta distribution: P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2)."""
    x = beta_quantile(2 * (1 - q), df / 2, 0.5)
    return float(np.sqrt(df * (1 - x) / x))


def f_survival(statistic: float, d1: float, d2: float) -> float:
    """P(F > statistic) for an F(d1, d2) variable, from the beta distribution."""
    return regularized_beta(d2 / (d2 + d1 * statistic), d2 / 2, d1 / 2) if statistic > 0 else 1.0
