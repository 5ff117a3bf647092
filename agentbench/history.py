"""Release over release: the runs carrying a label (`--label release=1.4.0`), in the order of
its values, each configuration's rate, cost per solved and wall time per solved per release, and
each release paired (on the tasks both ran) with the one before it and with a fixed reference
release (the first, unless one is named), so a slow drift shows as well as a sudden drop. Every
mark is decided in one family over all configurations, releases and both directions, Holm's
step-down keeping the chance of any false mark at most alpha."""

from __future__ import annotations

import json
import re

from rich import box
from rich.console import Console
from rich.table import Table

from agentbench.comparison import paired_comparison
from agentbench.errors import UserError
from agentbench.paired_test import holm_adjusted
from agentbench.metrics import config_summary
from agentbench.report import cost_per_solved_text, percent


def release_order(values: list[str]) -> list[str]:
    """Release names in the order they were released: as versions (1.9.0 before 1.10.0, 1.4.0rc1
    before 1.4.0) when every one is a version, else numbers by value and other text by letters."""
    from packaging.version import InvalidVersion, Version

    try:
        return sorted(values, key=Version)
    except InvalidVersion:
        return sorted(values, key=lambda value: [(0, int(part), "") if part.isdigit() else (1, 0, part)
                                                 for part in re.findall(r"\d+|[^\d.\-_+]+", value)])


def release_history(releases: list[dict], label: str, alpha: float = 0.05, reference: str | None = None) -> dict:
    """The series of `releases` (each {"value", "run", "created_at", "attempts": report attempt
    records, "broken": task ids}); of several runs with one value the newest counts, the others
    are named in `left_out`. `reference` is the release every other one is also compared with."""
    newest: dict[str, dict] = {}
    for release in sorted(releases, key=lambda r: r["created_at"]):
        newest[release["value"]] = release
    ordered = [newest[value] for value in release_order(list(newest))]
    if reference is not None and reference not in newest:
        raise UserError(f"--reference {reference!r} is no {label} of these runs; they have {', '.join(r['value'] for r in ordered)}.")
    reference = reference or (ordered[0]["value"] if ordered else None)
    configs: dict[str, list[dict]] = {}
    previous: dict[str, tuple[dict, list[dict]]] = {}
    base = {config: (newest[reference], attempts) for config, attempts in _by_config(newest[reference]["attempts"]).items()} if ordered else {}
    for release in ordered:
        for config, attempts in _by_config(release["attempts"]).items():
            summary = config_summary(attempts)
            point = {"release": release["value"], "run": release["run"], "rate": summary["rate"], "ci95": summary["ci95"],
                     "solved": summary["solved"], "graded": summary["graded"],
                     "cost_per_solved_usd": summary["cost_per_solved_usd"], "cost_per_solved_none": summary["cost_per_solved_none"],
                     "wall_s_per_solved": summary["wall_s_per_solved"], "change": None, "from_reference": None}
            if config in previous:
                point["change"] = _change(previous[config], (release, attempts))
            if config in base and release["value"] != reference:
                same = config in previous and previous[config][0]["value"] == reference
                point["from_reference"] = point["change"] if same else _change(base[config], (release, attempts))
            configs.setdefault(config, []).append(point)
            previous[config] = (release, attempts)
    changes = {id(p[key]): p[key] for points in configs.values() for p in points for key in ("change", "from_reference") if p[key]}
    decide(list(changes.values()), alpha)
    return {
        "label": label,
        "alpha": alpha,
        "reference": reference,
        "releases": [{"value": r["value"], "run": r["run"], "created_at": r["created_at"]} for r in ordered],
        "left_out": sorted(r["run"] for r in releases if newest[r["value"]] is not r),
        "configs": [{"config": config, "points": points} for config, points in configs.items()],
    }


def _by_config(attempts: list[dict]) -> dict[str, list[dict]]:
    groups: dict[str, list[dict]] = {}
    for attempt in attempts:
        groups.setdefault(f"{attempt['model']}/{attempt['agent']}", []).append(attempt)
    return groups


def _change(before: tuple[dict, list[dict]], after: tuple[dict, list[dict]]) -> dict:
    """The paired change from one release's attempts to another's, its verdict left to decide."""
    paired = paired_comparison(before[1], after[1], before[0]["broken"] | after[0]["broken"])
    return {"against": before[0]["value"], "tasks": paired["tasks"], "change": paired["change"], "regressed": paired["regressed"],
            "improved": paired["improved"], "p_value": paired["p_value"], "p_improved": paired["p_improved"]}


def decide(changes: list[dict], alpha: float) -> None:
    """Give each change (each test once) its Holm-adjusted p-values (`p_adjusted` for a regression,
    `p_improved_adjusted`) over the whole family, both directions counted, and its verdict at `alpha`."""
    adjusted = holm_adjusted([c["p_value"] for c in changes] + [c["p_improved"] for c in changes])
    for change, worse, better in zip(changes, adjusted, adjusted[len(changes):]):
        change["p_adjusted"], change["p_improved_adjusted"] = worse, better
        change["verdict"] = "regressed" if worse < alpha else "improved" if better < alpha else "unchanged"


def history_of(engine, label: str, alpha: float = 0.05, reference: str | None = None) -> dict:
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
    return release_history(releases, label, alpha, reference)


def render_history(history: dict, console: Console) -> None:
    """One table per configuration: each release's numbers and its change, the marked one when
    a change from the one before or from the reference is significant."""
    for config in history["configs"]:
        table = Table(title=f"{config['config']} by {history['label']}", box=box.SIMPLE_HEAD, title_justify="left")
        for column in ("release", "run", "solved", "rate [95% CI]", "cost/solved", "wall/solved"):
            table.add_column(column, justify="left" if column in ("release", "run") else "right", no_wrap=column not in ("release", "run"))
        table.add_column("change (paired)", overflow="fold")
        for point in config["points"]:
            low, high = point["ci95"]
            table.add_row(point["release"], point["run"], f"{point['solved']}/{point['graded']}",
                          f"{percent(point['rate'])} [{percent(low)}, {percent(high)}]", cost_per_solved_text(point),
                          "-" if point["wall_s_per_solved"] is None else f"{point['wall_s_per_solved']:.1f}s", _change_text(point))
        console.print(table)
    console.print(f"[dim]each release paired with the one before and with {history['reference']}; marks decided together over "
                  f"every configuration, release and direction (Holm), so the chance of any false mark is at most "
                  f"{history['alpha']:g}; p shown adjusted[/]", highlight=False)
    if history["left_out"]:
        console.print(f"[dim]left out (a newer run has the same {history['label']}): {', '.join(history['left_out'])}[/]", highlight=False)


def shown_change(point: dict) -> dict | None:
    """The change a point shows: a regression, else an improvement, from the one before or from
    the reference; else the change from the one before."""
    changes = [c for c in (point["change"], point["from_reference"]) if c]
    for verdict in ("regressed", "improved"):
        marked = [c for c in changes if c["verdict"] == verdict]
        if marked:
            return marked[0]
    return changes[0] if changes else None


def _change_text(point: dict) -> str:
    change = shown_change(point)
    if change is None:
        return "-"
    p = change["p_improved_adjusted"] if change["verdict"] == "improved" else change["p_adjusted"]
    marks = {"regressed": "[red]REGRESSED[/] ", "improved": "[green]improved[/] ", "unchanged": ""}
    return f"{marks[change['verdict']]}vs {change['against']}: -{len(change['regressed'])} +{len(change['improved'])} of {change['tasks']}, p={p:.2g}"
