"""`agentbench run`, and the red-team audit that runs the same way."""

from __future__ import annotations

import json
import os
import signal
import sys
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from agentbench.cli.output import console, err_console, split_values
from agentbench.errors import UserError


def run(
    model: Optional[list[str]] = typer.Option(None, "--model", "-m", help="Model profile(s); repeat or comma-separate."),
    agent: list[str] = typer.Option(["fast"], "--agent", "-a", help="Agent scaffold(s): fast, deliberate, minimal."),
    suite: list[str] = typer.Option(["multistep"], "--suite", "-s", help="Suite name under tasks/ or a folder."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="Only these task ids."),
    epochs: int = typer.Option(1, min=1, help="Attempts per task, model and agent."),
    workers: Optional[int] = typer.Option(None, min=1, help="Attempts running at once (default 2)."),
    run_name: Optional[str] = typer.Option(None, "--run", help="Name of the run (rerunning a name with the same settings resumes it)."),
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
    limit: Optional[int] = typer.Option(None, "--limit", min=1, help="Only the first N tasks of the suites."),
    label: Optional[list[str]] = typer.Option(None, "--label", help="KEY=VALUE label for the run, e.g. release=1.4.0; repeat for more."),
    executor: Optional[str] = typer.Option(None, "--executor", help="Where attempts run: local (default) or ray (a cluster's Docker nodes)."),
    ray_address: Optional[str] = typer.Option(None, "--ray-address", help="The Ray cluster for --executor ray (default: RAY_ADDRESS, else local)."),
    decide: bool = typer.Option(False, "--decide", help="Two configurations, tasks in a seeded order: stop once a sequential paired test decides."),
    decide_alpha: Optional[float] = typer.Option(None, "--decide-alpha", help="--decide: the chance of a wrong decision (default 0.05)."),
    decide_margin: Optional[float] = typer.Option(None, "--decide-margin", help="--decide: a difference within +-margin is a decision too (equivalent)."),
) -> None:
    """Run every combination of model, agent and task; print the summary at the end.

    A suite is a task folder (or a name under tasks/), or a SWE-bench instance file
    (.json/.jsonl) or dataset (swebench:NAME)."""
    from pydantic import ValidationError

    from agentbench.contracts import Budget
    from agentbench.errors import field_problem
    from agentbench.models.profiles import get_profile, load_profiles
    from agentbench.spec import RunSpec, load_spec

    if spec_file and model:
        raise UserError("Give either --spec FILE or --model (with the other matrix flags), not both.")
    stored_profiles: dict = {}
    if spec_file:
        spec = load_spec(spec_file)
    elif model:
        budget = Budget(steps=max_steps, seconds=max_seconds, tokens=max_tokens, dollars=max_dollars)
        spec = RunSpec(models=split_values(model), agents=split_values(agent), suites=split_values(suite),
                       tasks=split_values(task), epochs=epochs, budget=budget)
    elif resume:
        spec, stored_profiles = resumed(resume)
    else:
        raise UserError("Say which model(s) to run: --model PROFILE (see `agentbench models`) or --spec FILE.")
    overrides = {"name": resume or run_name, "workers": workers, "base_url": base_url, "repos": repos, "images": images,
                 "hints": hints or None, "prune_images": prune_images or None, "network": network or None,
                 "max_cost": max_cost, "image_builds": image_builds, "limit": limit, "executor": executor,
                 "ray_address": ray_address, "decide": decide or None, "decide_alpha": decide_alpha, "decide_margin": decide_margin}
    overrides["labels"] = {**spec.labels, **parsed_labels(label or [])} if label else None
    try:
        spec = RunSpec.model_validate({**spec.model_dump(), **{key: value for key, value in overrides.items() if value is not None}})
    except ValidationError as exc:
        raise UserError(f"{field_problem(exc)}.") from None
    profiles_by_name = {**load_profiles(models_file), **stored_profiles}
    profiles = [get_profile(m, profiles_by_name) for m in spec.models]
    # what a user can get wrong is checked above, before the heavy imports below (the runner, SWE-bench)
    from agentbench.estimate import History, forecast
    from agentbench.report import build_report
    from agentbench.runner import check_suite_ids, pending_attempts
    from agentbench.store import attempts_of_models, get_run, run_attempts, run_servers
    from agentbench.store_open import open_store
    from agentbench.suites import load_tasks
    from agentbench.terminal_report import render_forecast, render_table

    if run_name and not resume:
        refuse_other_settings(open_store(), spec)
    tasks = load_tasks(spec)
    check_suite_ids(tasks)
    if estimate:
        engine = open_store()
        cells = [(a.task.id, a.profile.name, a.agent) for a in pending_attempts(engine, spec, tasks, profiles)]
        render_forecast(forecast(cells, History(attempts_of_models(engine, spec.models)), {p.name: p for p in profiles},
                                 spec.workers, spec.budget.dollars), console)
        return
    engine = run_spec(spec, profiles, tasks)
    report = build_report(get_run(engine, spec.name), run_attempts(engine, spec.name), run_servers(engine, spec.name))
    render_table(report, console)
    lost = [f"{c['model']}/{c['agent']}" for c in report["configs"] if c["attempts"] and c["errors"] == c["attempts"]]
    if lost:
        err_console.print(f"error: every attempt of {', '.join(lost)} ended in an infrastructure error (see the errors above), "
                          f"so its rate is unknown; fix the cause and resume with `agentbench run --resume {spec.name}`.",
                          highlight=False, soft_wrap=True)
        raise typer.Exit(1)


MATRIX = ("models", "agents", "suites", "tasks", "limit", "epochs", "budget", "decide", "decide_alpha", "decide_margin")


def refuse_other_settings(engine, spec) -> None:
    """Rerunning a run's name goes on with it only under the same matrix; other settings would
    mix two runs' attempts under one name, so they are refused in a sentence."""
    from sqlmodel import Session

    from agentbench.store import RunRow

    with Session(engine) as session:
        row = session.get(RunRow, spec.name)
    if row is None:
        return
    stored, asked = json.loads(row.spec_json or "{}"), spec.model_dump(mode="json")
    changed = [f"{key} {stored[key]!r} -> {asked[key]!r}" for key in MATRIX if key in stored and stored[key] != asked[key]]
    if changed:
        raise UserError(f"Run {spec.name!r} exists with other settings ({'; '.join(changed)}); pass --resume {spec.name} "
                        "to go on with its own, or choose another --run name.")


def parsed_labels(flags: list[str]) -> dict[str, str]:
    """`--label KEY=VALUE` flags as a dict, or one sentence naming the one that is not."""
    labels = {}
    for flag in flags:
        key, equals, value = flag.partition("=")
        if not equals or not key.strip() or not value.strip():
            raise UserError(f"--label {flag!r} is not KEY=VALUE; write e.g. --label release=1.4.0.")
        labels[key.strip()] = value.strip()
    return labels


def resumed(name: str):
    """The stored spec of run `name` and the profiles it ran with, so that `--resume NAME` alone
    (or with what it changes, such as --max-cost) goes on as the run began."""
    from agentbench.models.profiles import ModelProfile
    from agentbench.spec import RunSpec
    from agentbench.store import get_run
    from agentbench.store_open import open_store

    row = get_run(open_store(must_exist=True), name)
    profiles = {key: ModelProfile.model_validate({**fields, "name": key}) for key, fields in json.loads(row.profiles_json or "{}").items()}
    return RunSpec.model_validate_json(row.spec_json), profiles


def run_spec(spec, profiles: list, tasks: list):
    """Run a spec with a progress bar and each attempt printed as it ends; returns the store."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
    )

    from agentbench.executors import executor_for
    from agentbench.faults import fault_sentence
    from agentbench.harbor.task_kind import HarborTasks
    from agentbench.runner import Runner
    from agentbench.sandbox.backends import sandbox_factory
    from agentbench.sandbox.images import ca_bundle_from_env
    from agentbench.store_open import open_store
    from agentbench.swebench.images import SwebenchImages
    from agentbench.swebench.repos import RepoSource
    from agentbench.swebench.task_kind import SwebenchTasks
    from agentbench.task_kinds import FolderTasks

    source = RepoSource(spec.repos)
    sandboxes, ca_bundle = sandbox_factory("docker"), ca_bundle_from_env()
    client = sandboxes.client  # images are built on the Docker engine the sandboxes run on
    executor = executor_for(spec.executor, sandboxes, spec.ray_address)
    engine = open_store()
    signal.signal(signal.SIGTERM, raise_interrupt)
    with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console) as bar:
        job = bar.add_task(f"run {spec.name}", total=None)

        def on_attempt(row) -> None:
            mark = "[green]solved[/]" if row.solved else f"[red]{row.status}[/]"
            bar.console.print(f"{row.task}  {row.model}/{row.agent}#{row.epoch}  {mark}  ({row.stop_reason}, {row.wall_s:.1f} s)", highlight=False)
            bar.advance(job)

        def on_status(line: str) -> None:
            bar.console.print(f"[dim]{line}[/]", highlight=False)

        kinds = {"folder": FolderTasks(client, ca_bundle, on_status), "harbor": HarborTasks(client, on_status),
                   "swebench": SwebenchTasks(SwebenchImages(client, source, spec.images, ca_bundle, on_status, spec.image_builds),
                                               spec.prune_images)}
        runner = Runner(spec, engine, sandboxes, profiles, tasks, on_attempt=on_attempt, on_status=on_status,
                        on_start=lambda count: bar.update(job, total=count), kinds=kinds, executor=executor)
        try:
            runner.run()
            executor.close()
            return engine
        except KeyboardInterrupt:
            pass
        except Exception as exc:
            sentence = fault_sentence(exc)
            if sentence is None:
                raise
            err_console.print(f"error: {sentence}. {resume_advice(engine, spec.name)}", highlight=False, soft_wrap=True)
            _exit_now(1)
    err_console.print(f"interrupted: containers removed. {resume_advice(engine, spec.name)}", highlight=False, soft_wrap=True)
    _exit_now(130)


def resume_advice(engine, name: str) -> str:
    """How to go on, said only when the store holds the run (else nothing was recorded yet)."""
    from agentbench.store import get_run

    try:
        get_run(engine, name)
    except Exception:  # a missing run, or a store that cannot be read right now
        return "Nothing was recorded yet; run the command again."
    return f"Nothing recorded is lost; resume with `agentbench run --resume {name}`."


def audit(suite: str, only: list[str], workers: int, repos: str | None, images: str) -> None:
    """Run the red team (one reward hack per epoch) on the suite as a stored run; exit 1 when a hack got through."""
    from pydantic import ValidationError

    from agentbench.audit import audit_results, render_audit, runs_code_in_subprocess
    from agentbench.errors import field_problem
    from agentbench.evidence import expected_tests
    from agentbench.models.profiles import get_profile, load_profiles
    from agentbench.models.redteam import NAMES as ATTACK_NAMES
    from agentbench.spec import RunSpec
    from agentbench.store import run_attempts
    from agentbench.suites import load_tasks

    try:
        spec = RunSpec(name=f"audit-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}", models=["redteam"], agents=["fast"],
                       suites=[suite], tasks=only, epochs=len(ATTACK_NAMES), workers=workers, repos=repos, images=images)
    except ValidationError as exc:
        raise UserError(f"{field_problem(exc)}.") from None
    tasks = load_tasks(spec)
    engine = run_spec(spec, [get_profile("redteam", load_profiles(None))], tasks)
    folders = [task for task in tasks if task.kind == "folder"]
    exit_code_only = {task.id for task in folders if not expected_tests(task.tests_dir)}
    in_subprocess = {task.id for task in folders if runs_code_in_subprocess(task.tests_dir)}
    if render_audit(audit_results(run_attempts(engine, spec.name)), console, exit_code_only, in_subprocess):
        raise typer.Exit(1)


def raise_interrupt(signum, frame) -> None:
    """SIGTERM handled as Ctrl-C."""
    raise KeyboardInterrupt


def _exit_now(code: int) -> None:
    """Exit without waiting for attempt threads still blocked on a model call (everything
    recorded is committed already; a thread cut at interpreter shutdown could crash it)."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
