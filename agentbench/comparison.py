"""Two runs compared: their shared configurations paired task by task, what could not be
paired, and whether the candidate regressed."""

from __future__ import annotations

import math
from typing import Iterable, Sequence

from rich.console import Console
from rich.table import Table

from agentbench.intervals import bootstrap_interval
from agentbench.metrics import cost_per_solved_of, per_task, rate
from agentbench.report import percent


def mcnemar_exact(regressed: int, improved: int) -> float:
    """Two-sided exact McNemar p-value: a binomial test of the discordant pairs against 1/2."""
    n = regressed + improved
    if n == 0:
        return 1.0
    tail = sum(math.comb(n, i) for i in range(min(regressed, improved) + 1)) / 2**n
    return min(1.0, 2 * tail)


def paired_comparison(baseline: Sequence[dict], candidate: Sequence[dict], broken: Iterable[str] = ()) -> dict:
    """Per-task comparison of two configurations on the tasks both attempted, leaving out
    `broken` tasks (no verdict on them says anything about an agent).

    A task counts as solved by a configuration when at least half of its graded epochs were.
    """
    base, cand = per_task(baseline), per_task(candidate)
    shared = sorted(set(base) & set(cand) - set(broken))

    def solved(counts, task):
        n, c = counts[task]
        return 2 * c >= n

    regressed = [t for t in shared if solved(base, t) and not solved(cand, t)]
    improved = [t for t in shared if solved(cand, t) and not solved(base, t)]
    base_rate = rate(sum(solved(base, t) for t in shared), len(shared))
    cand_rate = rate(sum(solved(cand, t) for t in shared), len(shared))
    tasks = set(shared)
    base_cost = cost_per_solved_of([a for a in baseline if a["task"] in tasks])
    cand_cost = cost_per_solved_of([a for a in candidate if a["task"] in tasks])
    pairs = [([a for a in baseline if a["task"] == t], [a for a in candidate if a["task"] == t]) for t in shared]

    def cost_change(sample):
        b = cost_per_solved_of([a for pair in sample for a in pair[0]])
        c = cost_per_solved_of([a for pair in sample for a in pair[1]])
        return None if b is None or c is None else c - b

    return {
        "tasks": len(shared),
        "broken_left_out": sorted(set(base) & set(cand) & set(broken)),
        "baseline_rate": base_rate,
        "candidate_rate": cand_rate,
        "regressed": regressed,
        "improved": improved,
        "p_value": mcnemar_exact(len(regressed), len(improved)),
        "baseline_cost_per_solved_usd": base_cost,
        "candidate_cost_per_solved_usd": cand_cost,
        "cost_per_solved_change_usd": None if base_cost is None or cand_cost is None else cand_cost - base_cost,
        "cost_per_solved_change_ci95": bootstrap_interval(pairs, cost_change),
    }


def by_config(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["model"], row["agent"]), []).append(row)
    return groups


def comparisons(baseline_rows: list[dict], candidate_rows: list[dict], broken: set[str] = frozenset()) -> list[dict]:
    """Paired comparisons of the configurations two runs share (or of their only ones), on the
    tasks that are not `broken`."""
    base, cand = by_config(baseline_rows), by_config(candidate_rows)
    pairs = [(key, key) for key in base if key in cand]
    if not pairs and len(base) == 1 and len(cand) == 1:
        pairs = [(next(iter(base)), next(iter(cand)))]
    return [
        {"baseline": "/".join(b), "candidate": "/".join(c), **paired_comparison(base[b], cand[c], broken)}
        for b, c in pairs
    ]


def render_comparison(results: list[dict], alpha: float, console: Console) -> None:
    table = Table(title=f"paired comparison (McNemar exact, alpha {alpha:g})")
    for column in ("baseline", "candidate", "tasks", "rate", "regressed", "improved", "p", "cost/solved change [95% CI]"):
        table.add_column(column)
    for r in results:
        interval = r["cost_per_solved_change_ci95"]
        change = "n/a" if r["cost_per_solved_change_usd"] is None else f"{r['cost_per_solved_change_usd']:+.4f}"
        if interval:
            change += f" [{interval[0]:+.4f}, {interval[1]:+.4f}]"
        table.add_row(
            r["baseline"], r["candidate"], str(r["tasks"]), f"{percent(r['baseline_rate'])} -> {percent(r['candidate_rate'])}",
            str(len(r["regressed"])), str(len(r["improved"])), f"{r['p_value']:.3g}", change,
        )
    console.print(table)
    for r in results:
        if r["regressed"]:
            console.print(f"regressed ({r['candidate']}): {', '.join(r['regressed'])}", highlight=False, markup=False)
        if r["broken_left_out"]:
            console.print(f"left out as broken tasks: {', '.join(r['broken_left_out'])}", highlight=False, markup=False)


def significant_regression(result: dict, alpha: float) -> bool:
    """The candidate solves significantly fewer of the shared tasks."""
    return result["p_value"] < alpha and len(result["regressed"]) > len(result["improved"])


def unpaired(baseline_rows: list[dict], candidate_rows: list[dict], results: list[dict]) -> dict[str, list[str]]:
    """The configurations of each run that no comparison covers (`model/agent`), by run."""
    paired = {("baseline", r["baseline"]) for r in results} | {("candidate", r["candidate"]) for r in results}
    return {side: sorted("/".join(key) for key in by_config(rows) if (side, "/".join(key)) not in paired)
            for side, rows in (("baseline", baseline_rows), ("candidate", candidate_rows))}
