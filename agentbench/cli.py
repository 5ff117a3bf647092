"""The `agentbench` command line: parses flags and calls the modules that do the work."""

from __future__ import annotations

import json
import os
import shlex
import signal
import sys
import time
from datetime import datetime, timezone
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Optional

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from agentbench.audit import audit_results, render_audit
from agentbench.benches import FolderBench
from agentbench.errors import UserError, field_problem
from agentbench.estimate import History, forecast
from agentbench.grading import validate_task
from agentbench.html_report import attempt_key, render_html
from agentbench.lock import GROUPS, changed_groups, lock_warnings
from agentbench.models.llamacpp import gguf_path, llamacpp_command
from agentbench.models.pricing import price_text
from agentbench.models.profiles import get_profile, load_profiles
from agentbench.models.redteam import NAMES as ATTACK_NAMES
from agentbench.models.server_process import check_port_free
from agentbench.models.serving import SELF_HOSTED, launcher_for, server_log
from agentbench.models.vllm import serve_command
from agentbench.report import (
    attempts_csv, build_report, comparisons, render_comparison, render_forecast, render_table, significant_regression,
    trajectory_text,
)
from agentbench.runner import Runner, check_suite_ids, pending_attempts
from agentbench.sandbox.docker import docker_client, remove_containers
from agentbench.sandbox.images import ca_bundle_from_env, ensure_image, list_images, prune_images, recipe_names
from agentbench.spec import Budget, RunSpec, load_spec
from agentbench.suites import load_tasks
from agentbench.swebench.bench import SwebenchBench
from agentbench.swebench.grading import validate_instance
from agentbench.swebench.images import SwebenchImages
from agentbench.swebench.instances import is_instance_suite, load_instances
from agentbench.swebench.predictions import grade_predictions, load_predictions, run_predictions, write_predictions
from agentbench.swebench.repos import RepoSource
from agentbench.swebench.specs import python_for, spec_for
from agentbench.store import attempt_steps, attempts_of_models, get_run, list_runs, open_store, run_attempts, run_servers
from agentbench.tasks import load_suite

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Evaluate agent configurations on real tasks in Docker sandboxes.")
images_app = typer.Typer(no_args_is_help=True, help="Sandbox images: list, build, prune.")
sandbox_app = typer.Typer(no_args_is_help=True, help="Sandbox containers.")
app.add_typer(images_app, name="images")
app.add_typer(sandbox_app, name="sandbox")
console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)


def main() -> None:
    """Console-script entry: a user's mistake is one sentence on stderr and exit code 2."""
    try:
        app()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)


def _split(values: list[str] | None) -> list[str]:
    """Repeated flags and comma-separated lists alike: --model a,b --model c."""
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


@app.command()
def run(
    model: Optional[list[str]] = typer.Option(None, "--model", "-m", help="Model profile(s); repeat or comma-separate."),
    agent: list[str] = typer.Option(["fast"], "--agent", "-a", help="Agent scaffold(s): fast, deliberate, minimal."),
    suite: list[str] = typer.Option(["multistep"], "--suite", "-s", help="Suite name under tasks/ or a folder."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="Only these task ids."),
    epochs: int = typer.Option(1, min=1, help="Attempts per task, model and agent."),
    workers: Optional[int] = typer.Option(None, min=1, help="Attempts running at once (default 2)."),
    run_name: Optional[str] = typer.Option(None, "--run", help="Name of the run (rerunning a name resumes it)."),
    resume: Optional[str] = typer.Option(None, "--resume", help="Resume this run: run only its missing attempts."),
    base_url: Optional[str] = typer.Option(None, "--base-url", envvar="BASE_URL", help="Running OpenAI-compatible server for non-builtin models."),
    models_file: Optional[Path] = typer.Option(None, "--models-file", help="Extra model profiles (YAML)."),
    spec_file: Optional[Path] = typer.Option(None, "--spec", help="A RunSpec YAML file (models, agents, suites, epochs, budget); replaces the matrix flags."),
    max_steps: Optional[int] = typer.Option(None, "--max-steps", min=1, help="Model calls per attempt (default: each task's limit)."),
    max_seconds: Optional[float] = typer.Option(None, "--max-seconds", min=1, help="Wall seconds per attempt (default: each task's limit)."),
    max_tokens: Optional[int] = typer.Option(None, "--max-tokens", min=1, help="Tokens per attempt."),
    max_dollars: Optional[float] = typer.Option(None, "--max-dollars", min=0, help="USD per attempt."),
    network: bool = typer.Option(False, "--network", help="Let every agent's sandbox reach the network (recorded; grading stays offline)."),
    repos: Optional[str] = typer.Option(None, "--repos", envvar="AGENTBENCH_SWEBENCH_REPOS", help="SWE-bench: folder of owner__name .git/.bundle mirrors (default: GitHub)."),
    images: Optional[str] = typer.Option(None, "--images", help="SWE-bench images: auto (pull where a registry answers, else build), pull, build."),
    hints: bool = typer.Option(False, "--hints", help="SWE-bench: show the agent the instance's hints."),
    prune_images: bool = typer.Option(False, "--prune-images", help="SWE-bench: remove each instance image once its attempts are graded."),
    image_builds: Optional[int] = typer.Option(None, "--image-builds", min=1, help="SWE-bench: image builds running at once (default 2)."),
    max_cost: Optional[float] = typer.Option(None, "--max-cost", min=0, help="USD the whole run may spend; no attempt starts that would pass it."),
    estimate: bool = typer.Option(False, "--estimate", help="Forecast tokens, dollars and hours from earlier runs, and run nothing."),
) -> None:
    """Run every combination of model, agent and task; print the summary at the end.

    A suite is a task folder (or a name under tasks/), or a SWE-bench instance file
    (.json/.jsonl) or dataset (swebench:NAME)."""
    if spec_file and model:
        raise UserError("Give either --spec FILE or --model (with the other matrix flags), not both.")
    if spec_file:
        spec = load_spec(spec_file)
    elif model:
        budget = Budget(steps=max_steps, seconds=max_seconds, tokens=max_tokens, dollars=max_dollars)
        spec = RunSpec(models=_split(model), agents=_split(agent), suites=_split(suite), tasks=_split(task),
                       epochs=epochs, budget=budget)
    else:
        raise UserError("Say which model(s) to run: --model PROFILE (see `agentbench models`) or --spec FILE.")
    overrides = {"name": resume or run_name, "workers": workers, "base_url": base_url, "repos": repos, "images": images,
                 "hints": hints or None, "prune_images": prune_images or None, "network": network or None,
                 "max_cost": max_cost, "image_builds": image_builds}
    try:
        spec = RunSpec.model_validate({**spec.model_dump(), **{key: value for key, value in overrides.items() if value is not None}})
    except ValidationError as exc:
        raise UserError(f"{field_problem(exc)}.") from None
    profiles_by_name = load_profiles(models_file)
    profiles = [get_profile(m, profiles_by_name) for m in spec.models]
    tasks = load_tasks(spec)
    check_suite_ids(tasks)
    if estimate:
        engine = open_store()
        cells = [(a.task.id, a.profile.name, a.agent) for a in pending_attempts(engine, spec, tasks, profiles)]
        render_forecast(forecast(cells, History(attempts_of_models(engine, spec.models)), {p.name: p for p in profiles},
                                 spec.workers), console)
        return
    engine = _run_spec(spec, profiles, tasks)
    render_table(build_report(get_run(engine, spec.name), run_attempts(engine, spec.name), run_servers(engine, spec.name)), console)


def _run_spec(spec: RunSpec, profiles: list, tasks: list):
    """Run a spec with a progress bar and each attempt printed as it ends; returns the store."""
    source = RepoSource(spec.repos)
    client, ca_bundle = docker_client(), ca_bundle_from_env()
    engine = open_store()
    signal.signal(signal.SIGTERM, _raise_interrupt)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        job = bar.add_task(f"run {spec.name}", total=None)

        def on_attempt(row) -> None:
            mark = "[green]solved[/]" if row.solved else f"[red]{row.status}[/]"
            bar.console.print(f"{row.task}  {row.model}/{row.agent}#{row.epoch}  {mark}  ({row.stop_reason}, {row.wall_s:.1f} s)", highlight=False)
            bar.advance(job)

        def on_status(line: str) -> None:
            bar.console.print(f"[dim]{line}[/]", highlight=False)

        benches = {"folder": FolderBench(client, ca_bundle, on_status),
                   "swebench": SwebenchBench(SwebenchImages(client, source, spec.images, ca_bundle, on_status, spec.image_builds),
                                               spec.prune_images)}
        runner = Runner(spec, engine, client, profiles, tasks, on_attempt=on_attempt, on_status=on_status,
                        on_start=lambda count: bar.update(job, total=count), benches=benches)
        try:
            runner.run()
            return engine
        except KeyboardInterrupt:
            pass
    err_console.print(f"interrupted: containers removed; resume with `agentbench run --resume {spec.name}`")
    _exit_now(130)


def _exit_now(code: int) -> None:
    """Exit without waiting for attempt threads still blocked on a model call (everything
    recorded is committed already; a thread cut at interpreter shutdown could crash it)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def _raise_interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@app.command()
def report(
    run_name: Optional[str] = typer.Argument(None, metavar="RUN", help="Run name (default: the latest)."),
    json_out: Optional[str] = typer.Option(None, "--json", help="Write the JSON report to FILE, or - for stdout."),
    csv_out: Optional[str] = typer.Option(None, "--csv", help="Write one row per attempt to FILE, or - for stdout."),
    html_out: Optional[Path] = typer.Option(None, "--html", help="Write a self-contained HTML report to FILE."),
) -> None:
    """The report of a run: a table, and JSON, CSV or HTML on request."""
    engine = open_store()
    row = get_run(engine, run_name)
    rows = run_attempts(engine, row.name)
    document = build_report(row, rows, run_servers(engine, row.name))
    if html_out:
        trajectories = {attempt_key(record): trajectory_text(attempt, attempt_steps(engine, attempt.id))
                        for attempt, record in zip(rows, document["attempts"], strict=True)}
        html_out.write_text(render_html(document, trajectories))
        err_console.print(f"wrote {html_out}")
    outputs = {json_out: json.dumps(document, indent=2) + "\n", csv_out: attempts_csv(document)}
    for target, text in outputs.items():
        if target == "-":
            sys.stdout.write(text)
        elif target:
            Path(target).write_text(text)
    if "-" not in outputs:
        render_table(document, console)


@app.command()
def compare(
    baseline: str = typer.Argument(..., help="The baseline run."),
    candidate: str = typer.Argument(..., help="The candidate run."),
    alpha: float = typer.Option(0.05, min=0, max=1, help="Significance level of the regression gate."),
    factor: Optional[list[str]] = typer.Option(None, "--factor", help=f"What the runs are meant to differ in: {', '.join(GROUPS)}."),
) -> None:
    """Per-task paired comparison of two runs; exit 1 when the candidate is significantly worse.

    Warns when the runs' lock records differ in more than the factor under test."""
    factors = _split(factor)
    unknown = sorted(set(factors) - set(GROUPS))
    if unknown:
        raise UserError(f"Unknown --factor {', '.join(unknown)}; known: {', '.join(GROUPS)}.")
    engine = open_store()
    documents = [build_report(get_run(engine, name), run_attempts(engine, name)) for name in (baseline, candidate)]
    broken = set(documents[0]["broken_tasks"]) | set(documents[1]["broken_tasks"])
    results = comparisons(documents[0]["attempts"], documents[1]["attempts"], broken)
    if not results:
        raise UserError(f"Runs {baseline!r} and {candidate!r} share no (model, agent) configuration to compare.")
    _warn_about_locks(documents, [(r["baseline"], r["candidate"]) for r in results], factors)
    render_comparison(results, alpha, console)
    if any(significant_regression(r, alpha) for r in results):
        err_console.print(f"regression: {candidate} solves significantly fewer tasks than {baseline} (alpha {alpha:g})")
        raise typer.Exit(1)


def _warn_about_locks(documents: list[dict], pairs: list[tuple[str, str]], factors: list[str]) -> None:
    """Name the factor under test, and warn about every other difference in the lock records."""
    baseline, candidate = (document["lock"] for document in documents)
    if not baseline or not candidate:
        err_console.print("warning: a run has no lock record (an older agentbench wrote it); the runs may differ in anything")
        return
    changed = changed_groups(baseline, candidate, pairs)
    for line in lock_warnings(changed, factors):
        err_console.print(f"warning: {line}", highlight=False)
    tested = factors or (list(changed) if len(changed) == 1 else [])
    if tested:
        err_console.print(f"factor under test: {', '.join(tested)}", highlight=False)


@app.command()
def show(
    run_name: str = typer.Argument(..., metavar="RUN", help="Run name."),
    task_id: str = typer.Argument(..., metavar="TASK", help="Task id (or its name within the suite)."),
    model: Optional[str] = typer.Option(None, "--model", help="Only this model's attempt."),
    agent: Optional[str] = typer.Option(None, "--agent", help="Only this agent's attempt."),
    epoch: Optional[int] = typer.Option(None, "--epoch", help="Only this epoch."),
) -> None:
    """Print one attempt's trajectory: every model call, tool call and result, and the grader's verdict."""
    engine = open_store()
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


@app.command()
def runs() -> None:
    """The runs in the store, newest first."""
    engine = open_store()
    table = Table("run", "status", "created", "attempts")
    for row in list_runs(engine):
        table.add_row(row.name, row.status, row.created_at.strftime("%Y-%m-%d %H:%M"), str(len(run_attempts(engine, row.name))))
    console.print(table)


@app.command()
def tasks(
    suite: str = typer.Argument("multistep", help="Suite name under tasks/, a folder, or a SWE-bench instance file."),
    validate: bool = typer.Option(False, "--validate", help="Prove each task in Docker: reference solves, untouched fails."),
    audit: bool = typer.Option(False, "--audit", help="Play the red team's reward hacks against every task; exit 1 if any can be forged."),
    workers: int = typer.Option(2, min=1, help="Tasks validated (or attempts audited) at once."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="SWE-bench: only these instance ids."),
    repos: Optional[str] = typer.Option(None, "--repos", envvar="AGENTBENCH_SWEBENCH_REPOS", help="SWE-bench: folder of owner__name .git/.bundle mirrors."),
    images: str = typer.Option("auto", "--images", help="SWE-bench images: auto, pull or build."),
) -> None:
    """List a suite's tasks; with --validate, prove every one of them; with --audit, try to forge them."""
    if audit:
        _audit(suite, _split(task), workers, repos, images)
        return
    if is_instance_suite(suite):
        _instances(suite, _split(task) or None, validate, workers, repos, images)
        return
    loaded = load_suite(suite)
    if not validate:
        table = Table("task", "image", "steps", "seconds", "tags")
        for t in loaded:
            table.add_row(t.id, t.spec.image, str(t.spec.limits.steps), f"{t.spec.limits.seconds:g}", ", ".join(t.spec.tags))
        console.print(table)
        return
    client = docker_client()
    images = {name: ensure_image(client, name, progress=_status) for name in {t.spec.image for t in loaded}}
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda t: validate_task(client, images[t.spec.image], t), loaded))
    broken = [r for r in results if r.problem]
    for r in results:
        console.print(f"[red]BROKEN[/] {r.task}: {r.problem}" if r.problem else f"[green]ok[/]     {r.task}", highlight=False)
    console.print(f"{len(results) - len(broken)} of {len(results)} tasks valid")
    if broken:
        raise typer.Exit(1)


def _audit(suite: str, only: list[str], workers: int, repos: str | None, images: str) -> None:
    """Run the red team (one reward hack per epoch) on the suite as a stored run; exit 1 when a hack got through."""
    try:
        spec = RunSpec(name=f"audit-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}", models=["redteam"], agents=["fast"],
                       suites=[suite], tasks=only, epochs=len(ATTACK_NAMES), workers=workers, repos=repos, images=images)
    except ValidationError as exc:
        raise UserError(f"{field_problem(exc)}.") from None
    engine = _run_spec(spec, [get_profile("redteam", load_profiles(None))], load_tasks(spec))
    if render_audit(audit_results(run_attempts(engine, spec.name)), console):
        raise typer.Exit(1)


def _status(line: str) -> None:
    console.print(f"[dim]{line}[/]", highlight=False)


def _instances(suite: str, only: list[str] | None, validate: bool, workers: int, repos: str | None, mode: str) -> None:
    """A SWE-bench suite's instances with the Python each environment gets offline; with
    `validate`, the empty and the gold patch of each graded in parallel, as a table."""
    instances = load_instances(suite, only)
    if not validate:
        table = Table("instance", "repo", "version", "python (offline)", "FAIL_TO_PASS", "PASS_TO_PASS")
        for instance in instances:
            table.add_row(instance.instance_id, instance.repo, instance.version, _python_text(instance, pulled=False),
                          str(len(instance.FAIL_TO_PASS)), str(len(instance.PASS_TO_PASS)))
        console.print(table)
        return
    client = docker_client()
    images = _swebench_images(client, repos, mode)
    for instance in instances:
        images.check(instance)

    def prove(instance):
        started = time.monotonic()
        image = images.instance(instance)
        built = time.monotonic() - started
        return validate_instance(client, image, instance), built, _python_text(instance, image.pulled)

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(prove, instances))
    table = Table("instance", "python", "empty patch", "gold patch", "image s", "grading s", "verdict")
    for result, built, python in results:
        table.add_row(result.instance_id, python, _tests_text(result.empty), _tests_text(result.gold), f"{built:.0f}",
                      f"{result.empty.duration_s + result.gold.duration_s:.1f}",
                      f"[red]BROKEN: {result.problem}[/]" if result.problem else "[green]ok[/]")
    console.print(table)
    broken = sum(1 for result, _, _ in results if result.problem)
    console.print(f"{len(results) - broken} of {len(results)} instances valid")
    if broken:
        raise typer.Exit(1)


def _python_text(instance, pulled: bool) -> str:
    """The Python an instance's environment has: swebench's own where its image was pulled, else
    the Debian release's, with the spec's where they differ (the gold patch says if it still resolves)."""
    if pulled:
        return f"{spec_for(instance)['python']} (swebench's image)"
    choice = python_for(spec_for(instance)["python"])
    return f"{choice.python} ({choice.release})" + ("" if choice.deviation is None else f", spec {choice.wanted}")


def _tests_text(verdict) -> str:
    """A verdict in a cell: resolved or not, and the FAIL_TO_PASS / PASS_TO_PASS tests passing."""
    tests = verdict.tests
    counts = "" if tests is None else (f" F2P {tests.f2p_passed}/{tests.f2p_passed + tests.f2p_failed},"
                                       f" P2P {tests.p2p_passed}/{tests.p2p_passed + tests.p2p_failed}")
    return ("resolved" if verdict.solved else f"not resolved ({verdict.status})") + counts


def _swebench_images(client, repos: str | None, mode: str) -> SwebenchImages:
    return SwebenchImages(client, RepoSource(repos), mode, ca_bundle_from_env(), _status)


@app.command()
def export(
    run_name: str = typer.Argument(..., metavar="RUN", help="Run name."),
    predictions: Path = typer.Option(..., "--predictions", help="Write the official predictions JSONL here."),
    model: Optional[str] = typer.Option(None, "--model", help="The configuration's model (needed when the run has several)."),
    agent: Optional[str] = typer.Option(None, "--agent", help="The configuration's agent (needed when the run has several)."),
    epoch: int = typer.Option(0, "--epoch", help="Which epoch's patches."),
) -> None:
    """Write a SWE-bench run's patches as official predictions, to re-grade with swebench's harness."""
    engine = open_store()
    get_run(engine, run_name)
    written = run_predictions(run_attempts(engine, run_name), model, agent, epoch)
    write_predictions(written, predictions)
    err_console.print(f"wrote {len(written)} predictions to {predictions}")


@app.command()
def grade(
    predictions: Path = typer.Option(..., "--predictions", help="Predictions JSONL (instance_id, model_name_or_path, model_patch)."),
    suite: str = typer.Option(..., "--suite", "-s", help="The SWE-bench instance file (or swebench:DATASET) they were made for."),
    repos: Optional[str] = typer.Option(None, "--repos", envvar="AGENTBENCH_SWEBENCH_REPOS", help="Folder of owner__name .git/.bundle mirrors."),
    images: str = typer.Option("auto", "--images", help="SWE-bench images: auto, pull or build."),
    run_name: Optional[str] = typer.Option(None, "--run", help="Name of the run the grades are stored as (default: from the file)."),
    workers: int = typer.Option(2, min=1, help="Instances graded at once."),
) -> None:
    """Grade predictions made elsewhere with this harness's clean-room grading, stored as a run."""
    loaded = load_predictions(predictions)
    name = run_name or f"graded-{predictions.stem}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    engine, client = open_store(), docker_client()
    ids = sorted({p["instance_id"] for p in loaded})

    def on_graded(row) -> None:
        mark = "[green]resolved[/]" if row.solved else f"[red]{row.grade_status}[/]"
        console.print(f"{row.task}  {row.model}  {mark}", highlight=False)

    grade_predictions(engine, client, _swebench_images(client, repos, images), load_instances(suite, ids), loaded,
                      name, suite, workers, on_graded)
    render_table(build_report(get_run(engine, name), run_attempts(engine, name)), console)


@app.command()
def models(models_file: Optional[Path] = typer.Option(None, "--models-file", help="Extra model profiles (YAML).")) -> None:
    """The model profiles: provider, model, GPUs and prices (with the date they were taken)."""
    table = Table("profile", "provider", "model", "GPUs", "prices", "notes")
    for profile in load_profiles(models_file).values():
        model = profile.model or (f"${profile.model_env}" if profile.model_env else "")
        gpus = str(profile.gpus) if profile.gpus else ""
        table.add_row(profile.label, profile.provider, model, gpus, price_text(profile), profile.description)
    console.print(table)


@app.command()
def serve(
    profile_name: str = typer.Argument(..., metavar="PROFILE", help="A self-hosted model profile (vllm or llamacpp)."),
    port: int = typer.Option(8000, help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the server command and exit."),
    models_file: Optional[Path] = typer.Option(None, "--models-file", help="Extra model profiles (YAML)."),
) -> None:
    """Serve a self-hosted model (vLLM on GPUs, llama.cpp on the CPU) in the foreground (Ctrl-C stops it)."""
    profile = get_profile(profile_name, load_profiles(models_file))
    if profile.provider not in SELF_HOSTED:
        raise UserError(f"Model profile {profile.name!r} is reached through its {profile.provider} API; only vllm and llamacpp "
                        "profiles are served.")
    if dry_run:
        command = serve_command(profile, host, port) if profile.provider == "vllm" else \
            llamacpp_command(profile, gguf_path(profile), host, port)
        typer.echo(shlex.join(command))
        return
    check_port_free(host, port, f"{profile.name!r}")
    server = launcher_for(profile)(server_log(profile, "serve"), port, host)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    err_console.print(f"starting {server.label}; log: {server.log_path}")
    with server:
        err_console.print(f"serving {profile.resolved_model()} at {server.base_url} (Ctrl-C stops it)")
        try:
            server.process.wait()
        except KeyboardInterrupt:
            err_console.print(f"stopping {server.label}")
    if server.process.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
        raise UserError(f"{server.label} exited with code {server.process.returncode}; its log is {server.log_path}.")


@images_app.command("list")
def images_list() -> None:
    """Our images and their sizes."""
    table = Table("tag", "id", "size")
    for image in list_images(docker_client()):
        table.add_row(", ".join(image.tags) or "<untagged>", image.short_id, f"{image.attrs['Size'] / 1e6:.0f} MB")
    console.print(table)


@images_app.command("build")
def images_build(
    names: Optional[list[str]] = typer.Argument(None, help="Images to build (default: all recipes)."),
    suite: Optional[str] = typer.Option(None, "--suite", "-s", help="Instead: the images of a SWE-bench instance file's instances."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="SWE-bench: only these instance ids."),
    repos: Optional[str] = typer.Option(None, "--repos", envvar="AGENTBENCH_SWEBENCH_REPOS", help="SWE-bench: folder of owner__name .git/.bundle mirrors."),
    images: str = typer.Option("auto", "--images", help="SWE-bench images: auto, pull or build."),
) -> None:
    """Build images (base first); what is unchanged is reused. AGENTBENCH_CA_BUNDLE adds a CA."""
    client = docker_client()
    if suite:
        swebench = _swebench_images(client, repos, images)
        instances = load_instances(suite, _split(task) or None)
        for instance in instances:
            swebench.check(instance)
        for instance in instances:
            console.print(f"{instance.instance_id}: {swebench.instance(instance).tag}")
        return
    for name in names or recipe_names():
        console.print(f"{name}: {ensure_image(client, name, progress=_status)}")


@images_app.command("prune")
def images_prune(
    instances: bool = typer.Option(False, "--instances", help="Also remove every SWE-bench instance image (environments stay)."),
) -> None:
    """Remove recipe images that no current recipe builds (base and SWE-bench environments stay)."""
    client = docker_client()
    recipes = [name for name in recipe_names() if name != "base"]
    keep = {ensure_image(client, name) for name in recipes}
    repositories = {f"agentbench/{name}" for name in recipes}
    if instances:
        repositories |= {"agentbench/sweb.instance", "agentbench/sweb.pulled"}
    for tag in prune_images(client, repositories, keep):
        console.print(f"removed {tag}")


@sandbox_app.command("prune")
def sandbox_prune(
    run_name: Optional[str] = typer.Option(None, "--run", help="Only this run's containers (default: every one of ours)."),
) -> None:
    """Remove containers of ours left behind by a crash."""
    labels = {"agentbench.run": run_name} if run_name else None
    console.print(f"removed {remove_containers(docker_client(), labels)} container(s)")
