"""The compare page: two or more runs side by side, each consecutive pair compared task by task
as `agentbench compare` does, and what differs between their lock records."""

from __future__ import annotations

import json
from itertools import pairwise

from agentbench.comparison import comparisons, significant_regression, unpaired
from agentbench.rates import per_task
from agentbench.report import build_report
from agentbench.store import get_run, run_attempts
from agentbench.view.pages import by_config

ALPHA = 0.05  # the regression gate's level, as `agentbench compare` uses by default
ABSENT = "(absent)"
_MISSING = object()


def flatten(value: dict, prefix: str = "") -> dict[str, object]:
    """The leaves of nested dicts by key path (`settings.budget.steps`); lists and empty dicts
    are leaves."""
    leaves: dict[str, object] = {}
    for key, item in value.items():
        path = f"{prefix}.{key}" if prefix else str(key)
        if isinstance(item, dict) and item:
            leaves.update(flatten(item, path))
        else:
            leaves[path] = item
    return leaves


def lock_differences(a: dict, b: dict) -> list[tuple[str, str, str]]:
    """The leaves where two lock records differ, in path order: (path, A's value, B's value),
    values as JSON text, `(absent)` where a record lacks the leaf."""
    left, right = flatten(a), flatten(b)

    def shown(side: dict, path: str) -> str:
        return json.dumps(side[path], sort_keys=True) if path in side else ABSENT

    return [(path, shown(left, path), shown(right, path)) for path in sorted(left.keys() | right.keys())
            if left.get(path, _MISSING) != right.get(path, _MISSING)]


def task_outcomes(attempts: list[dict]) -> dict[str, str]:
    """Each attempted task's outcome from its solve rate, as the paired comparison counts it:
    solved (every graded epoch), unsolved (none), `k/n solved` between, error when none was graded."""
    counts = per_task(attempts)

    def outcome(task: str) -> str:
        if task not in counts:
            return "error"
        graded, solved = counts[task]
        return "solved" if solved == graded else "unsolved" if solved == 0 else f"{solved}/{graded} solved"

    return {a["task"]: outcome(a["task"]) for a in attempts}


def outcome_table(documents: list[dict]) -> dict:
    """Task by (configuration, run): each cell's outcome, a configuration's runs side by side."""
    columns = [(config, doc["run"], task_outcomes(group)) for doc in documents for config, group in by_config(doc["attempts"]).items()]
    order = list(dict.fromkeys(config for config, _, _ in columns))
    columns.sort(key=lambda column: order.index(column[0]))
    tasks = sorted({task for _, _, outcomes in columns for task in outcomes})
    return {"columns": [(config, run) for config, run, _ in columns],
            "rows": [{"task": task, "cells": [outcomes.get(task, "") for _, _, outcomes in columns]} for task in tasks]}


def pair(base: dict, cand: dict) -> dict:
    """One consecutive pair of runs: the paired comparisons of their configurations, those that
    could not be paired, and where their lock records differ."""
    broken = set(base["broken_tasks"]) | set(cand["broken_tasks"])
    results = comparisons(base["attempts"], cand["attempts"], broken)
    for result in results:
        result["significant_regression"] = significant_regression(result, ALPHA)
    left = unpaired(base["attempts"], cand["attempts"], results)
    return {"baseline": base["run"], "candidate": cand["run"], "results": results,
            "unpaired": {base["run"]: left["baseline"], cand["run"]: left["candidate"]},
            "lock": lock_differences(base["lock"], cand["lock"]), "lock_missing": not base["lock"] or not cand["lock"]}


def compare_runs(engine, names: list[str]) -> dict:
    """Every run's configurations and rates, the outcome table, and each consecutive pair."""
    documents = [build_report(get_run(engine, name), run_attempts(engine, name)) for name in names]
    rates: dict[str, dict[str, dict]] = {}
    for doc in documents:
        for config in doc["configs"]:
            rates.setdefault(f"{config['model']}/{config['agent']}", {})[doc["run"]] = config
    return {"runs": names, "rates": rates, "outcomes": outcome_table(documents), "alpha": ALPHA,
            "pairs": [pair(base, cand) for base, cand in pairwise(documents)]}
