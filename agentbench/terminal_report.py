"""The report as a terminal shows it, readable at 100 columns: what each configuration solved
and spent, how long its attempts took and where that time went, pass@k over epochs, and the
notes that qualify them."""

from __future__ import annotations

from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from agentbench.books import books_line
from agentbench.sequential import decision_line
from agentbench.report import config_label, cost_per_solved_text, count, percent, server_line, usd

TIME_PARTS = (("model", "model_s"), ("tools", "tools_s"), ("grading", "grading_s"), ("queue", "queue_s"), ("harness", "harness_s"))


def render_table(report: dict, console: Console) -> None:
    """The tables a person reads at the end of a run, then the notes."""
    configs = report["configs"]
    outcome = _table(f"run {report['run']} ({report['status']})", "solved", "rate [95% CI]", "errors", "cost", "cost/solved",
                     "frontier")
    effort = _table("per attempt", "wall p50/p90", "wall/solved", "tok/solved", "out tok/s", "valid calls", "tampered")
    spent = _table("where the time went (share of all attempts' seconds)", *[name for name, _ in TIME_PARTS], "total")
    for c in configs:
        name = _name(c)
        outcome.add_row(name, f"{c['solved']}/{c['attempts'] - c['errors']}", _rate(c), str(c["errors"]), usd(c["cost_usd"]),
                        cost_per_solved_text(c), _frontier(c))
        effort.add_row(name, _percentiles(c["wall_s_median"], c["wall_s_p90"]), _seconds(c["wall_s_per_solved"]),
                       count(c["tokens_per_solved"]),
                       count(c["output_tokens_per_s"]), percent(c["valid_tool_call_share"]), str(c["tampered"]))
        spent.add_row(name, *time_shares(c["time_breakdown"]), _seconds(sum(c["time_breakdown"].values())))
    for table in (outcome, effort, spent, _pass_table(configs), _effects_table(report["effects"]), _node_table(report.get("nodes", {}))):
        if table is not None:
            console.print(table)
    _notes(report, console)


def time_shares(breakdown: dict[str, float]) -> list[str]:
    """Each part's share of the seconds, in TIME_PARTS order (`-` for all when nothing was timed)."""
    total = sum(breakdown.values())
    return [percent(breakdown[key] / total) if total else "-" for _, key in TIME_PARTS]


def _pass_table(configs: list[dict]) -> Table | None:
    """pass@k (some epoch of k solved it) and pass^k (all k did), when tasks ran several epochs."""
    ks = sorted({int(k) for c in configs for k in c["pass_at_k"]})
    if not ks:
        return None
    table = _table("pass@k: any of k epochs solved; pass^k: all k did",
                   *[f"pass@{k}" for k in ks], *[f"pass^{k}" for k in ks if k > 1])
    fewer = []
    for c in configs:
        table.add_row(_name(c), *[percent(c["pass_at_k"].get(str(k))) for k in ks],
                      *[percent(c["pass_hat_k"].get(str(k))) for k in ks if k > 1])
        tasks = c["pass_k_tasks"].get("1")
        fewer += [f"{config_label(c)} at k={k}: {n} of {tasks} tasks" for k, n in c["pass_k_tasks"].items() if n < tasks]
    if fewer:
        table.caption = "over the tasks with at least k graded epochs: " + "; ".join(fewer)
    return table


def _effects_table(effects: dict) -> Table | None:
    """Each varying factor's levels: raw rate, and the effect against the reference adjusted for
    the other factor and the task (agentbench.attribution), when some factor varies."""
    varying = {factor: entry for factor, entry in effects["factors"].items() if entry["reference"] is not None}
    if not varying:
        return None
    table = _table("effects on the rate, each adjusted for the rest and the task",
                   "level", "rate [95% CI]", "effect [95% CI]", first="factor")
    for factor, entry in varying.items():
        for level, e in entry["levels"].items():
            effect = "reference" if level == entry["reference"] else _signed_percent(e["rate_effect"], e["rate_effect_ci95"])
            table.add_row(factor, Text(level), _rate(e), effect)
    for term in effects["interactions"]:
        table.add_row("interaction", Text(term["terms"]), "", _signed_percent(term["effect"], term["ci95"]))
    notes = effects["notes"] + ([f"interactions tested together: p={effects['interaction_p']:.2g}"] if effects["interaction_p"] is not None else [])
    table.caption = "; ".join(notes) or None
    return table


def _signed_percent(value: float | None, interval: list | None) -> str:
    if value is None:
        return "not estimable"
    return f"{value:+.0%}" + (f" [{interval[0]:+.0%}, {interval[1]:+.0%}]" if interval else "")


def _node_table(nodes: dict[str, dict]) -> Table | None:
    """Where attempts ran, when more than one machine ran them."""
    if len(nodes) < 2:
        return None
    table = _table("where attempts ran (their last tries)", "attempts", "solved", "wall", "share of wall", first="node")
    for name, node in nodes.items():
        table.add_row(name, str(node["attempts"]), str(node["solved"]), _seconds(node["wall_s"]), percent(node["wall_share"]))
    return table


def _table(title: str, *columns: str, first: str = "configuration") -> Table:
    table = Table(title=title, box=box.SIMPLE_HEAD, title_justify="left", pad_edge=False)
    table.add_column(first, overflow="fold")
    for column in columns:
        table.add_column(column, justify="right", no_wrap=True)
    return table


def _name(config: dict) -> Text:
    """`model/agent`, baselines marked; as text, never as markup."""
    return Text(config_label(config) + (" (baseline)" if config["baseline"] else ""))


def _notes(report: dict, console: Console) -> None:
    for model, prices in report["prices"].items():
        console.print(f"[dim]prices: {model} {prices['text']}[/]", highlight=False)
    for server in report["servers"]:
        console.print(f"[dim]{server_line(server)}[/]", highlight=False)
    if report.get("decision"):
        console.print(decision_line(report["decision"]), style="bold", highlight=False, markup=False)
    books = books_line(report["harness"]) if "harness" in report else None
    if books:
        console.print(books, style="dim", highlight=False, markup=False)
    for note in report["notes"]:
        console.print(f"[yellow]note: {note}[/]", highlight=False)
    for c in report["configs"]:
        if c["errors"]:
            console.print(f"[dim]errors: {config_label(c)}: {_errors(c)}, left out of its rate; counted as failures it "
                          f"would be {percent(c['rate_with_errors'])}[/]", highlight=False)
        if c["errors_on_few_tasks"]:
            console.print(f"[yellow]errors: most of {config_label(c)}'s fall on {', '.join(c['errors_on_few_tasks'])}: "
                          "an endpoint failing chosen tasks would look like this; read them with `agentbench show`[/]",
                          highlight=False)
        if c["retry_tokens"] or c["retry_cost_usd"]:
            console.print(f"[dim]retries: {config_label(c)} spent {count(c['retry_tokens'])} tokens and "
                          f"{usd(c['retry_cost_usd'])} on tries the harness repeated (in its totals)[/]", highlight=False)
        if c["unreported_calls"]:
            console.print(f"[yellow]tokens: {c['unreported_calls']} model call(s) of {config_label(c)} came without usage from "
                          "the server; their tokens are unknown (not in the totals) and so is the cost[/]", highlight=False)
    for task, why in report["broken_tasks"].items():
        console.print(f"[red]broken task: {task}: {why}; its verdicts say nothing about the agents[/]", highlight=False)
    for attempt in report["attempts"]:
        if attempt["flags"]:
            console.print(f"[yellow]flagged: {attempt['task']} {attempt['model']}/{attempt['agent']}#{attempt['epoch']} "
                          f"({', '.join(attempt['flags'])}); read it with `agentbench show {report['run']} {attempt['task']}`[/]",
                          highlight=False)
        for line in attempt["patch_flags"][:3]:  # the patch's own lines, printed as they are
            console.print(f"  {line}", style="yellow", highlight=False, markup=False)


def render_forecast(forecast: dict, console: Console) -> None:
    """What a run would take, from earlier runs of the same profiles (agentbench.estimate). A
    configuration without history shows `unknown`, never zero; one with some says how many of
    its attempts its numbers leave out."""
    table = Table(title=f"forecast for {forecast['attempts']} attempt(s), from earlier runs")
    for column in ("model", "agent", "attempts", "history", "tokens", "cost", "attempt-hours"):
        table.add_column(column, justify="left" if column in ("model", "agent") else "right")
    for c in forecast["configs"]:
        if c["unknown"] == c["attempts"]:
            table.add_row(c["model"], c["agent"], str(c["attempts"]), "none", "unknown", "unknown", "unknown")
            continue
        left_out = f" (+{c['unknown']} unknown)" if c["unknown"] else ""
        table.add_row(c["model"], c["agent"], str(c["attempts"]), f"{c['basis']} attempts",
                      count(c["prompt_tokens"] + c["completion_tokens"]) + left_out, usd(c["cost_usd"]) + left_out,
                      f"{c['attempt_s'] / 3600:.2f}{left_out}")
    console.print(table)
    cost = "unknown (a profile has no prices)" if forecast["cost_usd"] is None else f"${forecast['cost_usd']:.4f}"
    attempt_hours = sum(c["attempt_s"] for c in forecast["configs"]) / 3600
    least = "" if forecast.get("complete", True) else "at least "
    console.print(f"in all: {least}{count(forecast['tokens'])} tokens, {least if forecast['cost_usd'] is not None else ''}{cost}, "
                  f"{least}{attempt_hours:.2f} attempt-hours, that is {least}{forecast['wall_hours']:.2f} h of wall time at "
                  f"{forecast['workers']} at once", highlight=False)
    if forecast["unknown"]:
        console.print(f"[yellow]{forecast['unknown']} attempt(s) have no earlier run of their model and agent: "
                      "they are left out of these numbers, which are therefore lower bounds[/]", highlight=False)
    if forecast.get("cost_bound_usd") is not None:
        console.print(f"at most ${forecast['cost_bound_usd']:.4f}: every attempt stops at its dollar budget", highlight=False)


def _errors(config: dict) -> str:
    """The error count and what failed: `2 (sandbox 1, grader 1)`."""
    kinds = config.get("errors_by_kind") or {}
    detail = ", ".join(f"{kind.removesuffix('_error')} {n}" for kind, n in kinds.items())
    return f"{config['errors']} ({detail})" if detail else str(config["errors"])


def _frontier(config: dict) -> str:
    """Where a configuration is Pareto-optimal: on cost, on time, both, or neither."""
    on = [axis for axis, placed in config["frontier"].items() if placed]
    return "+".join(on) or "-"


def _rate(config: dict) -> str:
    if config["rate"] is None:
        return "-"
    low, high = config["ci95"]
    return f"{config['rate']:.0%} [{low:.0%}, {high:.0%}]"


def _percentiles(median: float | None, p90: float | None) -> str:
    return "-" if median is None else f"{median:.1f}/{p90:.1f} s"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"
