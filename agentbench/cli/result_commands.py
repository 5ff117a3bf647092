"""Reading what runs recorded: runs, report, compare, history, show, and SWE-bench predictions out."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Optional

import typer

from agentbench.cli.output import console, err_console, split_values
from agentbench.errors import UserError
from agentbench.lock import GROUPS


def report(
    run_name: Optional[str] = typer.Argument(None, metavar="RUN", help="Run name (default: the latest)."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the JSON report to FILE, or - for stdout."),
    csv_out: Optional[str] = typer.Option(None, "--csv", help="Write one row per attempt to FILE, or - for stdout."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML report to FILE."),
) -> None:
    """The report of a run: a table, and JSON, CSV or HTML on request."""
    from agentbench.report import attempts_csv, build_report
    from agentbench.store import get_run, run_attempts, run_servers
    from agentbench.store_open import open_store
    from agentbench.terminal_report import render_table

    engine = open_store(must_exist=True)
    row = get_run(engine, run_name)
    rows = run_attempts(engine, row.name)
    document = build_report(row, rows, run_servers(engine, row.name))
    if html_out:
        from agentbench.history import history_of
        from agentbench.html_report import attempt_key, render_html
        from agentbench.report import trajectory_text
        from agentbench.store import attempt_steps

        trajectories = {attempt_key(record): trajectory_text(attempt, attempt_steps(engine, attempt.id))
                        for attempt, record in zip(rows, document["attempts"], strict=True)}
        histories = [history_of(engine, label) for label in document["labels"]]
        html_out.write_text(render_html(document, trajectories, histories))
        err_console.print(f"wrote {html_out}")
    outputs = {json_out: json.dumps(document, indent=2) + "\n", csv_out: attempts_csv(document)}
    for target, text in outputs.items():
        if target == "-":
            sys.stdout.write(text)
        elif target:
            Path(target).write_text(text)
    if "-" not in outputs:
        render_table(document, console)


def compare(
    baseline: str = typer.Argument(..., help="The baseline run."),
    candidate: str = typer.Argument(..., help="The candidate run."),
    alpha: float = typer.Option(0.05, min=0, max=1, help="Significance level of the regression gate."),
    factor: Optional[list[str]] = typer.Option(None, "--factor", help=f"What the runs are meant to differ in: {', '.join(GROUPS)}."),
    baseline_config: Optional[str] = typer.Option(None, "--baseline-config", metavar="MODEL/AGENT",
                                                  help="The baseline run's configuration to compare (needs --candidate-config)."),
    candidate_config: Optional[str] = typer.Option(None, "--candidate-config", metavar="MODEL/AGENT",
                                                   help="The candidate run's configuration to compare; the runs may be one."),
) -> None:
    """Per-task paired comparison of two runs (or of two configurations, of one run or two);
    exit 1 when the candidate is significantly worse, 3 when the runs have too few tasks for the
    test to show a regression at all.

    With several configurations compared at once, the gate's level holds for them together
    (Holm). Warns when the runs' lock records differ in more than the factor under test."""
    from agentbench.comparison import (
        comparisons,
        render_comparison,
        significant_regression,
        undecidable,
        unpaired,
    )
    from agentbench.lock import comparison_warnings
    from agentbench.report import build_report
    from agentbench.store import get_run, run_attempts
    from agentbench.store_open import open_store

    factors = split_values(factor)
    unknown = sorted(set(factors) - set(GROUPS))
    if unknown:
        raise UserError(f"Unknown --factor {', '.join(unknown)}; known: {', '.join(GROUPS)}.")
    engine = open_store(must_exist=True)
    documents = [build_report(get_run(engine, name), run_attempts(engine, name)) for name in (baseline, candidate)]
    configs = chosen_configs(documents, baseline_config, candidate_config)
    broken = set(documents[0]["broken_tasks"]) | set(documents[1]["broken_tasks"])
    results = comparisons(documents[0]["attempts"], documents[1]["attempts"], broken, configs)
    if not results:
        raise UserError(f"Runs {baseline!r} and {candidate!r} share no (model, agent) configuration to compare.")
    if not any(r["tasks"] for r in results):
        raise UserError(f"Runs {baseline!r} and {candidate!r} graded no task in common; compare runs of the same suite.")
    pairs = [(r["baseline"], r["candidate"]) for r in results]
    for line in comparison_warnings(documents[0]["lock"], documents[1]["lock"], pairs, factors) if baseline != candidate else ():
        err_console.print(line, highlight=False)
    for side, left in unpaired(documents[0]["attempts"], documents[1]["attempts"], results).items():
        if left and not configs:
            run = baseline if side == "baseline" else candidate
            err_console.print(f"warning: not compared (only in {side} run {run}): {', '.join(left)}", highlight=False)
    render_comparison(results, alpha, console)
    if any(significant_regression(r, alpha) for r in results):
        err_console.print(f"regression: {candidate} solves significantly fewer tasks than {baseline} (alpha {alpha:g})")
        raise typer.Exit(1)
    reasons = [reason for reason in (undecidable(r, alpha) for r in results) if reason]
    if reasons:
        for reason in reasons:
            err_console.print(f"cannot decide: {reason}", highlight=False)
        raise typer.Exit(3)


def chosen_configs(documents: list[dict], baseline_config: str | None, candidate_config: str | None) -> tuple[str, str] | None:
    """The two configurations --baseline-config and --candidate-config name, checked against the
    runs; None when neither is given (and the runs are two)."""
    if baseline_config is None and candidate_config is None:
        if documents[0]["run"] == documents[1]["run"]:
            raise UserError("To compare two configurations of one run, name them with --baseline-config MODEL/AGENT "
                            "and --candidate-config MODEL/AGENT.")
        return None
    if baseline_config is None or candidate_config is None:
        raise UserError("Give both --baseline-config and --candidate-config (as MODEL/AGENT), or neither.")
    for document, config, option in ((documents[0], baseline_config, "--baseline-config"), (documents[1], candidate_config, "--candidate-config")):
        known = sorted({f"{c['model']}/{c['agent']}" for c in document["configs"]})
        if config not in known:
            raise UserError(f"{option} {config!r} is not a configuration of run {document['run']!r}; it has {', '.join(known) or 'none'}.")
    return baseline_config, candidate_config


def show(
    run_name: str = typer.Argument(..., metavar="RUN", help="Run name."),
    task_id: str = typer.Argument(..., metavar="TASK", help="Task id (or its name within the suite)."),
    model: Optional[str] = typer.Option(None, "--model", help="Only this model's attempt."),
    agent: Optional[str] = typer.Option(None, "--agent", help="Only this agent's attempt."),
    epoch: Optional[int] = typer.Option(None, "--epoch", help="Only this epoch."),
) -> None:
    """Print one attempt's trajectory: every model call, tool call and result, and the grader's verdict."""
    from agentbench.report import trajectory_text
    from agentbench.store import attempt_steps, get_run, run_attempts
    from agentbench.store_open import open_store

    engine = open_store(must_exist=True)
    get_run(engine, run_name)
    matches = [a for a in run_attempts(engine, run_name)
               if task_id in (a.task, a.task.split("/", 1)[-1])
               and model in (None, a.model) and agent in (None, a.agent) and epoch in (None, a.epoch)]
    if not matches:
        raise UserError(f"Run {run_name!r} has no attempt of {task_id!r} with those filters; see `agentbench report {run_name}`.")
    typer.echo(trajectory_text(matches[0], attempt_steps(engine, matches[0].id)))
    others = [f"--model {a.model} --agent {a.agent} --epoch {a.epoch}" for a in matches[1:]]
    if others:
        typer.echo(f"\n{len(others)} more attempt(s) of this task; pick one with e.g. {others[0]}")


def runs(context: typer.Context) -> None:
    """The runs in the store, newest first (`runs delete RUN` removes one)."""
    from rich.table import Table
    from rich.text import Text

    from agentbench.store import list_runs, run_attempts
    from agentbench.store_open import open_store

    if context.invoked_subcommand is not None:
        return
    engine = open_store(must_exist=True)
    table = Table("run", "status", "created", "attempts", "labels")
    for row in list_runs(engine):
        labels = " ".join(f"{key}={value}" for key, value in json.loads(row.labels_json or "{}").items())
        table.add_row(Text(row.name), row.status, row.created_at.strftime("%Y-%m-%d %H:%M"),
                      str(len(run_attempts(engine, row.name))), Text(labels))
    console.print(table)


def history(
    label: str = typer.Option(..., "--label", help="The label whose values are the releases, e.g. release."),
    alpha: float = typer.Option(0.05, min=0, max=1, help="Chance of any false mark over the whole series (Holm)."),
    reference: Optional[str] = typer.Option(None, "--reference", help="The release every other one is compared with (default: the first)."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the series as JSON to FILE, or - for stdout."),
) -> None:
    """Each configuration release over release: rate, cost and wall time per solved, and changes.

    The releases are the values of a label the runs carry (`agentbench run ... --label
    release=1.4.0`); each release is paired, on the tasks both ran, with the one before it and
    with the reference release, and the marks are decided together so that the chance of any
    false REGRESSED or improved over the series is at most alpha."""
    from agentbench.history import history_of, render_history
    from agentbench.store_open import open_store

    series = history_of(open_store(must_exist=True), label, alpha, reference)
    if not series["releases"]:
        raise UserError(f"No run carries the label {label!r}; label runs as you make them, e.g. "
                        f"`agentbench run ... --label {label}=1.4.0`.")
    text = json.dumps(series, indent=2) + "\n"
    if json_out == "-":
        sys.stdout.write(text)
        return
    if json_out:
        Path(json_out).write_text(text)
    render_history(series, console)


def export(
    run_name: str = typer.Argument(..., metavar="RUN", help="Run name."),
    predictions: Optional[Path] = typer.Option(None, "--predictions", help="Write the official predictions JSONL here (SWE-bench runs)."),
    atif: Optional[Path] = typer.Option(None, "--atif", help="Write one ATIF trajectory JSON per attempt into this folder."),
    model: Optional[str] = typer.Option(None, "--model", help="Only this model's attempts (predictions: needed when the run has several)."),
    agent: Optional[str] = typer.Option(None, "--agent", help="Only this agent's attempts (predictions: needed when the run has several)."),
    epoch: Optional[int] = typer.Option(None, "--epoch", help="Only this epoch (predictions: default 0)."),
) -> None:
    """Write a SWE-bench run's patches as official predictions (to re-grade with swebench's
    harness), or any run's attempts as ATIF trajectories (for Terminal-Bench's leaderboard)."""
    from agentbench.store import get_run, run_attempts
    from agentbench.store_open import open_store
    from agentbench.swebench.instances import is_instance_suite
    from agentbench.swebench.predictions import run_predictions, write_predictions

    if (predictions is None) == (atif is None):
        raise UserError("Give exactly one of --predictions FILE (a SWE-bench run's patches) or --atif DIR (trajectories).")
    engine = open_store(must_exist=True)
    row = get_run(engine, run_name)
    if atif is not None:
        written = export_atif(engine, row, atif, model, agent, epoch)
        err_console.print(f"wrote {written} ATIF trajectories to {atif}")
        return
    suites = json.loads(row.spec_json or "{}").get("suites") or []
    if not any(is_instance_suite(suite) for suite in suites):
        raise UserError(f"Run {run_name!r} is not a SWE-bench run (its suites: {', '.join(suites) or 'none'}); "
                        "predictions files are for SWE-bench instances.")
    written = run_predictions(run_attempts(engine, run_name), model, agent, epoch or 0)
    write_predictions(written, predictions)
    err_console.print(f"wrote {len(written)} predictions to {predictions}")


def export_atif(engine, row, folder: Path, model: str | None, agent: str | None, epoch: int | None) -> int:
    """Write the run's attempts (those the filters keep) as ATIF files into `folder`; how many."""
    from agentbench.atif import file_name, trajectory
    from agentbench.models.profiles import ModelProfile
    from agentbench.store import attempt_steps, run_attempts

    chosen = [a for a in run_attempts(engine, row.name)
              if model in (None, a.model) and agent in (None, a.agent) and epoch in (None, a.epoch)]
    if not chosen:
        raise UserError(f"Run {row.name!r} has no attempt with those filters; see `agentbench report {row.name}`.")
    profiles = {name: ModelProfile.model_validate({**fields, "name": name})
                for name, fields in json.loads(row.profiles_json or "{}").items()}
    prompts = run_prompts(row)
    folder.mkdir(parents=True, exist_ok=True)
    for attempt in chosen:
        document = trajectory(attempt, attempt_steps(engine, attempt.id), prompts.get(attempt.task),
                              profiles.get(attempt.model), row.agentbench_version)
        (folder / file_name(attempt)).write_text(json.dumps(document, indent=2) + "\n")
    return len(chosen)


def run_prompts(row) -> dict[str, str]:
    """The prompts of a run's tasks, when its suites still load here exactly as they ran (the
    same suite hash as its lock record); else none. SWE-bench datasets are not downloaded for it."""
    from agentbench.lock import suite_hash
    from agentbench.spec import RunSpec
    from agentbench.suites import load_tasks

    spec = RunSpec.model_validate_json(row.spec_json)
    if any(suite.startswith("swebench:") for suite in spec.suites):
        return {}
    try:
        tasks = load_tasks(spec)
    except UserError:
        return {}
    same = suite_hash({t.id: t.content_hash for t in tasks}) == json.loads(row.lock_json or "{}").get("suite", {}).get("hash")
    return {t.id: t.prompt for t in tasks} if same else {}


def delete(
    run_name: str = typer.Argument(..., metavar="RUN", help="Run name."),
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask first."),
) -> None:
    """Remove a run and everything recorded of it (attempts, steps, server records)."""
    from agentbench.recorder import RunRecorder
    from agentbench.store import get_run, run_attempts
    from agentbench.store_open import open_store

    engine = open_store(must_exist=True)
    get_run(engine, run_name)
    if not yes and not typer.confirm(f"Remove run {run_name} and its {len(run_attempts(engine, run_name))} attempt(s)?"):
        raise typer.Exit(1)
    err_console.print(f"removed run {run_name} ({RunRecorder(engine, run_name).delete()} attempts)")
