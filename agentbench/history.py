"""Release over release: the runs carrying a label (`--label release=1.4.0`), in the order of
its values, each configuration's rate, cost per solved and wall time per solved per release, and
each change against the previous release, paired on the tasks both ran."""

from __future__ import annotations

import json
import re

from rich.console import Console
from rich.table import Table

from agentbench.comparison import paired_comparison, significant_regression
from agentbench.metrics import config_summary
from agentbench.report import percent, usd


def release_order(values: list[str]) -> list[str]:
    """Release names in the order they were released: as versions (1.9.0 before 1.10.0, 1.4.0rc1
    before 1.4.0) when every one is a version, else numbers by value and other text by letters."""
    from packaging.version import InvalidVersion, Version

    try:
        return sorted(values, key=Version)
    except InvalidVersion:
        return sorted(values, key=lambda value: [(0, int(part), "") if part.isdigit() else (1, 0, part)
                                                 for part in re.findall(r"\d+|[^\d.\-_+]+", value)])


def release_history(releases: list[dict], label: str, alpha: float = 0.05) -> dict:
    """The series of `releases` (each {"value", "run", "created_at", "attempts": report attempt
    records, "broken": task ids}); of several runs with one value the newest counts, the others
    are named in `left_out`."""
    newest: dict[str, dict] = {}
    for release in sorted(releases, key=lambda r: r["created_at"]):
        newest[release["value"]] = release
    ordered = [newest[value] for value in release_order(list(newest))]
    configs: dict[str, list[dict]] = {}
    previous: dict[str, tuple[dict, list[dict]]] = {}
    for release in ordered:
        for config, attempts in _by_config(release["attempts"]).items():
            summary = config_summary(attempts)
            point = {"release": release["value"], "run": release["run"], "rate": summary["rate"], "ci95": summary["ci95"],
                     "solved": summary["solved"], "graded": summary["attempts"] - summary["errors"],
                     "cost_per_solved_usd": summary["cost_per_solved_usd"], "cost_per_solved_none": summary["cost_per_solved_none"],
                     "wall_s_per_solved": summary["wall_s_per_solved"],
                     "change": None}
            if config in previous:
                before, earlier = previous[config]
                point["change"] = _change(earlier, attempts, before["broken"] | release["broken"], alpha)
            configs.setdefault(config, []).append(point)
            previous[config] = (release, attempts)
    return {
        "label": label,
        "alpha": alpha,
        "releases": [{"value": r["value"], "run": r["run"], "created_at": r["created_at"]} for r in ordered],
        "left_out": sorted(r["run"] for r in releases if newest[r["value"]] is not r),
        "configs": [{"config": config, "points": points} for config, points in configs.items()],
    }


def _by_config(attempts: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for attempt in attempts:
        groups.setdefault(f"{attempt['model']}/{attempt['agent']}", []).append(attempt)
    return groups


def _change(before: list[dict], after: list[dict], broken: set[str], alpha: float) -> dict:
    """The paired change from one release to the next: which way it went, if significantly."""
    paired = paired_comparison(before, after, broken)
    if significant_regression(paired, alpha):
        verdict = "regressed"
    elif paired["p_improved"] < alpha:
        verdict = "improved"
    else:
        verdict = "unchanged"
    return {"tasks": paired["tasks"], "regressed": paired["regressed"], "improved": paired["improved"],
            "p_value": paired["p_value"], "verdict": verdict}


def history_of(engine, label: str, alpha: float = 0.05) -> dict:
    """The release series of the store's runs carrying `label`."""
    from agentbench.report import build_report
    from agentbench.store import list_runs, run_attempts

    releases = []
    for run in list_runs(engine):
        value = json.loads(run.labels_json or "{}").get(label)
        if value is not None:
            report = build_report(run, run_attempts(engine, run.name))
            releases.append({"value": value, "run": run.name, "created_at": report["created_at"],
                             "attempts": report["attempts"], "broken": set(report["broken_tasks"])})
    return release_history(releases, label, alpha)


def render_history(history: dict, console: Console) -> None:
    """One table per configuration: each release's numbers and its change from the one before."""
    for config in history["configs"]:
        table = Table(title=f"{config['config']} by {history['label']}")
        for column in ("release", "run", "solved", "rate [95% CI]", "cost/solved", "wall/solved", "change (paired)"):
            table.add_column(column, justify="left" if column in ("release", "run", "change (paired)") else "right")
        for point in config["points"]:
            low, high = point["ci95"]
            table.add_row(point["release"], point["run"], f"{point['solved']}/{point['graded']}",
                          f"{percent(point['rate'])} [{percent(low)}, {percent(high)}]", usd(point["cost_per_solved_usd"]),
                          "-" if point["wall_s_per_solved"] is None else f"{point['wall_s_per_solved']:.1f}s", _change_text(point["change"]))
        console.print(table)
    if history["left_out"]:
        console.print(f"[dim]left out (a newer run has the same {history['label']}): {', '.join(history['left_out'])}[/]", highlight=False)


def _change_text(change: dict | None) -> str:
    if change is None:
        return "-"
    counts = f"-{len(change['regressed'])} +{len(change['improved'])} of {change['tasks']}, p={change['p_value']:.2g}"
    marks = {"regressed": "[red]REGRESSED[/] ", "improved": "[green]improved[/] ", "unchanged": ""}
    return f"{marks[change['verdict']]}{counts}"

