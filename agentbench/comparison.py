"""Two runs compared: their shared configurations paired task by task, what could not be
paired, and whether the candidate regressed."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from agentbench.metrics import paired_comparison
from agentbench.report import percent


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
