"""Two runs compared: their shared configurations paired task by task, what could not be
paired, and whether the candidate regressed."""

from __future__ import annotations

import math
from typing import Iterable, Sequence

from rich.console import Console
from rich.table import Table

from agentbench.intervals import bootstrap_interval
from agentbench.metrics import cost_per_solved_of, total_cost
from agentbench.paired_test import RESAMPLES, holm_adjusted, paired_test, tasks_needed
from agentbench.rates import per_task, solve_rate
from agentbench.report import percent


def paired_comparison(baseline: Sequence[dict], candidate: Sequence[dict], broken: Iterable[str] = (),
                      resamples: int = RESAMPLES) -> dict:
    """Per-task comparison of two configurations on the tasks both graded, leaving out `broken`
    tasks (no verdict on them says anything about an agent) and naming the tasks only one side
    graded. Each task counts by its solve rate (solved / graded epochs), so unequal epochs and
    missing attempts change nothing but the evidence; the test is agentbench.paired_test."""
    base, cand = per_task(baseline), per_task(candidate)
    attempted = {a["task"] for a in baseline} | {a["task"] for a in candidate}
    shared = sorted(set(base) & set(cand) - set(broken))
    tasks = set(shared)

    def task_rate(counts, task):
        return counts[task][1] / counts[task][0]
    test = paired_test([(base[t], cand[t]) for t in shared], resamples)
    kept_base = [a for a in baseline if a["task"] in tasks]
    kept_cand = [a for a in candidate if a["task"] in tasks]
    base_cost, cand_cost = cost_per_solved_of(kept_base), cost_per_solved_of(kept_cand)
    pairs = [([a for a in kept_base if a["task"] == t], [a for a in kept_cand if a["task"] == t]) for t in shared]

    def rate_change(sample):
        return sum(solve_rate(per_task(c)) - solve_rate(per_task(b)) for b, c in sample) / len(sample)

    def cost_change(sample):  # a side that solved nothing in a resample costs without bound
        b = cost_per_solved_of([a for pair in sample for a in pair[0]])
        c = cost_per_solved_of([a for pair in sample for a in pair[1]])
        if b is None and c is None:
            return None
        return -math.inf if b is None else math.inf if c is None else c - b
    costs_known = total_cost(a["cost_usd"] for a in kept_base + kept_cand) is not None

    return {
        "tasks": len(shared),
        "unpaired_tasks": sorted(attempted - tasks - set(broken)),  # graded on one side only
        "broken_left_out": sorted(set(base) & set(cand) & set(broken)),
        "baseline_rate": solve_rate({t: base[t] for t in shared}),
        "candidate_rate": solve_rate({t: cand[t] for t in shared}),
        "change": test.change,
        "change_ci95": bootstrap_interval(pairs, rate_change),
        "regressed": [t for t in shared if task_rate(cand, t) < task_rate(base, t)],
        "improved": [t for t in shared if task_rate(cand, t) > task_rate(base, t)],
        "p_value": test.p_worse,
        "p_improved": test.p_better,
        "p_floor": test.floor,
        "baseline_cost_per_solved_usd": base_cost,
        "candidate_cost_per_solved_usd": cand_cost,
        "cost_per_solved_change_usd": None if base_cost is None or cand_cost is None else cand_cost - base_cost,
        "cost_per_solved_change_ci95": bootstrap_interval(pairs, cost_change) if costs_known else None,
    }


def by_config(rows: list[dict]) -> dict[tuple[str, str], list[dict]]:
    groups: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        groups.setdefault((row["model"], row["agent"]), []).append(row)
    return groups


def comparisons(baseline_rows: list[dict], candidate_rows: list[dict], broken: set[str] = frozenset(),
                configs: tuple[str, str] | None = None) -> list[dict]:
    """Paired comparisons of the configurations two runs share (or of their only ones, or of the
    two `configs` named as `model/agent`, which may come from one run), on the tasks that are
    not `broken`. Each carries `p_adjusted`: its p-value adjusted (Holm) over all of them, so
    the gate's chance of any false regression stays at its level however many are compared."""
    base, cand = by_config(baseline_rows), by_config(candidate_rows)
    if configs:
        pairs = [(tuple(configs[0].split("/", 1)), tuple(configs[1].split("/", 1)))]
    else:
        pairs = [(key, key) for key in base if key in cand]
        if not pairs and len(base) == 1 and len(cand) == 1:
            pairs = [(next(iter(base)), next(iter(cand)))]
    results = [{"baseline": "/".join(b), "candidate": "/".join(c), **paired_comparison(base.get(b, []), cand.get(c, []), broken)}
               for b, c in pairs]
    for result, adjusted in zip(results, holm_adjusted([r["p_value"] for r in results])):
        result["p_adjusted"] = adjusted
    return results


def render_comparison(results: list[dict], alpha: float, console: Console) -> None:
    table = Table(title=f"paired comparison (per-task solve rates, one-sided permutation test, alpha {alpha:g})")
    for column in ("baseline", "candidate", "tasks", "rate", "change [95% CI]", "regressed", "improved",
                   "p worse" if len(results) == 1 else "p worse (Holm)", "cost/solved change [95% CI]"):
        table.add_column(column)
    for r in results:
        table.add_row(
            r["baseline"], r["candidate"], str(r["tasks"]), f"{percent(r['baseline_rate'])} -> {percent(r['candidate_rate'])}",
            signed(r["change"], r["change_ci95"], ".3f"), str(len(r["regressed"])), str(len(r["improved"])),
            f"{r['p_adjusted']:.3g}", signed(r["cost_per_solved_change_usd"], r["cost_per_solved_change_ci95"], ".4f"),
        )
    console.print(table)
    for r in results:
        if r["regressed"]:
            console.print(f"regressed ({r['candidate']}): {', '.join(r['regressed'])}", highlight=False, markup=False)
        if r["unpaired_tasks"]:
            console.print(f"not paired (graded on one side only): {', '.join(r['unpaired_tasks'])}", highlight=False, markup=False)
        if r["broken_left_out"]:
            console.print(f"left out as broken tasks: {', '.join(r['broken_left_out'])}", highlight=False, markup=False)


def signed(value: float | None, interval, spec: str) -> str:
    """A change with its interval, or n/a."""
    if value is None:
        return "n/a"
    text = f"{value:+{spec}}"
    if interval:
        low, high = ("unbounded" if end is None else f"{end:+{spec}}" for end in interval)
        text += f" [{low}, {high}]"
    return text


def significant_regression(result: dict, alpha: float) -> bool:
    """The candidate solves significantly fewer of the shared tasks (one-sided at `alpha`, adjusted
    over the comparisons made together)."""
    return result["p_adjusted"] < alpha


def undecidable(result: dict, alpha: float) -> str | None:
    """Why these tasks cannot show a regression at `alpha` whatever happened on them, if so."""
    if result["p_floor"] < alpha:
        return None
    return (f"{result['baseline']} vs {result['candidate']}: {result['tasks']} paired task(s) cannot show a regression at "
            f"alpha {alpha:g} whatever the outcomes (the lowest p-value they allow is {result['p_floor']:.3g}); "
            f"with one epoch a side it takes at least {tasks_needed(alpha)} tasks")


def unpaired(baseline_rows: list[dict], candidate_rows: list[dict], results: list[dict]) -> dict[str, list[str]]:
    """The configurations of each run that no comparison covers (`model/agent`), by run."""
    paired = {("baseline", r["baseline"]) for r in results} | {("candidate", r["candidate"]) for r in results}
    return {side: sorted("/".join(key) for key in by_config(rows) if (side, "/".join(key)) not in paired)
            for side, rows in (("baseline", baseline_rows), ("candidate", candidate_rows))}
