"""Tasks: listing, proving and auditing a suite, and grading SWE-bench predictions made elsewhere."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from datetime import datetime, timezone
from pathlib import Path
from typing import Optional

import typer

from agentbench.cli.output import console, err_console, print_status, split_values
from agentbench.cli.run_commands import audit


def tasks(
    suite: str = typer.Argument("multistep", help="Suite name under tasks/, a folder, or a SWE-bench instance file."),
    validate: bool = typer.Option(False, "--validate", help="Prove each task in Docker: reference solves, untouched fails."),
    audit_suite: bool = typer.Option(False, "--audit", help="Play the red team's reward hacks against every task; exit 1 if any can be forged."),
    workers: int = typer.Option(2, min=1, help="Tasks validated (or attempts audited) at once."),
    task: Optional[list[str]] = typer.Option(None, "--task", "-t", help="SWE-bench and Harbor suites: only these task ids."),
    repos: Optional[str] = typer.Option(None, "--repos", envvar="AGENTBENCH_SWEBENCH_REPOS", help="SWE-bench: folder of owner__name .git/.bundle mirrors."),
    images: str = typer.Option("auto", "--images", help="SWE-bench images: auto, pull or build."),
) -> None:
    """List a suite's tasks; with --validate, prove every one of them; with --audit, try to forge them."""
    from rich.table import Table

    from agentbench.harbor.task import harbor_root
    from agentbench.swebench.instances import is_instance_suite
    from agentbench.tasks import load_suite

    if audit_suite:
        audit(suite, split_values(task), workers, repos, images)
        return
    if is_instance_suite(suite):
        _instances(suite, split_values(task) or None, validate, workers, repos, images)
        return
    if harbor_root(suite):
        _harbor(suite, split_values(task) or None, validate, workers)
        return
    loaded = load_suite(suite)
    if not validate:
        table = Table("task", "image", "steps", "seconds", "tags")
        for t in loaded:
            table.add_row(t.id, t.spec.image, str(t.spec.limits.steps), f"{t.spec.limits.seconds:g}", ", ".join(t.spec.tags))
        console.print(table)
        return
    from agentbench.grading import validate_task
    from agentbench.sandbox.docker import DockerSandboxes, docker_client
    from agentbench.sandbox.images import ensure_image

    client = docker_client()
    sandboxes = DockerSandboxes(client)
    images_by_name = {name: ensure_image(client, name, progress=print_status) for name in {t.spec.image for t in loaded}}
    _prove(loaded, lambda t: validate_task(sandboxes, images_by_name[t.spec.image], t), workers)


def _harbor(suite: str, only: list[str] | None, validate: bool, workers: int) -> None:
    """A Harbor suite's tasks; with `validate`, each proven in Docker: solve.sh passes, untouched fails."""
    from rich.table import Table

    from agentbench.harbor.task import load_harbor_suite

    loaded = load_harbor_suite(suite, only)
    if not validate:
        table = Table("task", "environment", "workdir", "agent s", "verifier s", "agent network")
        for t in loaded:
            table.add_row(t.id, t.config.environment.docker_image or "environment/Dockerfile", t.workdir,
                          f"{t.limits.seconds:g}", f"{t.config.verifier.timeout_sec:g}", "yes" if t.network else "no")
        console.print(table)
        return
    from agentbench.harbor.images import environment_image
    from agentbench.harbor.task_kind import validate_harbor_task
    from agentbench.sandbox.docker import DockerSandboxes, docker_client

    client = docker_client()
    sandboxes = DockerSandboxes(client)
    images = {t.id: environment_image(client, t, print_status) for t in loaded}
    _prove(loaded, lambda t: validate_harbor_task(sandboxes, client, images[t.id], t), workers)


def _prove(loaded: list, validate, workers: int) -> None:
    """Validate every task in parallel, printing each one's line as soon as it is proven; exit 1
    when any is broken."""
    results = []
    with ThreadPoolExecutor(workers) as pool:
        for done in as_completed([pool.submit(validate, t) for t in loaded]):
            r = done.result()
            results.append(r)
            mark = f"[red]BROKEN[/] {r.task}: {r.problem}" if r.problem else f"[green]ok[/]     {r.task}"
            console.print(f"{mark}  ({len(results)}/{len(loaded)})", highlight=False)
    broken = [r for r in results if r.problem]
    console.print(f"{len(results) - len(broken)} of {len(results)} tasks valid")
    if broken:
        raise typer.Exit(1)


def _instances(suite: str, only: list[str] | None, validate: bool, workers: int, repos: str | None, mode: str) -> None:
    """A SWE-bench suite's instances with the Python each environment gets offline; with
    `validate`, the empty and the gold patch of each graded in parallel, as a table."""
    from rich.table import Table

    from agentbench.swebench.grading import validate_instance, verdict_text
    from agentbench.swebench.instances import load_instances
    from agentbench.swebench.specs import environment_python_text

    instances = load_instances(suite, only)
    if not validate:
        table = Table("instance", "repo", "version", "python (offline)", "FAIL_TO_PASS", "PASS_TO_PASS")
        for instance in instances:
            table.add_row(instance.instance_id, instance.repo, instance.version, environment_python_text(instance, pulled=False),
                          str(len(instance.FAIL_TO_PASS)), str(len(instance.PASS_TO_PASS)))
        console.print(table)
        return
    from agentbench.sandbox.docker import DockerSandboxes, docker_client

    client = docker_client()
    sandboxes, images = DockerSandboxes(client), swebench_images(client, repos, mode)
    for instance in instances:
        images.check(instance)

    def prove(instance):
        started = time.monotonic()
        image = images.instance(instance)
        built = time.monotonic() - started
        return validate_instance(sandboxes, image, instance), built, environment_python_text(instance, image.pulled)

    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(prove, instances))
    table = Table("instance", "python", "empty patch", "gold patch", "image s", "grading s", "verdict")
    for result, built, python in results:
        table.add_row(result.instance_id, python, verdict_text(result.empty), verdict_text(result.gold), f"{built:.0f}",
                      f"{result.empty.duration_s + result.gold.duration_s:.1f}",
                      f"[red]BROKEN: {result.problem}[/]" if result.problem else "[green]ok[/]")
    console.print(table)
    broken = sum(1 for result, _, _ in results if result.problem)
    console.print(f"{len(results) - broken} of {len(results)} instances valid")
    if broken:
        raise typer.Exit(1)


def swebench_images(client, repos: str | None, mode: str):
    """The SWE-bench images of this machine: built from `repos` (else GitHub), or pulled, by `mode`."""
    from agentbench.sandbox.images import ca_bundle_from_env
    from agentbench.swebench.images import SwebenchImages
    from agentbench.swebench.repos import RepoSource

    return SwebenchImages(client, RepoSource(repos), mode, ca_bundle_from_env(), print_status)


def grade(
    predictions: Path = typer.Option(..., "--predictions", help="Predictions JSONL (instance_id, model_name_or_path, model_patch)."),
    suite: str = typer.Option(..., "--suite", "-s", help="The SWE-bench instance file (or swebench:DATASET) they were made for."),
    repos: Optional[str] = typer.Option(None, "--repos", envvar="AGENTBENCH_SWEBENCH_REPOS", help="Folder of owner__name .git/.bundle mirrors."),
    images: str = typer.Option("auto", "--images", help="SWE-bench images: auto, pull or build."),
    run_name: Optional[str] = typer.Option(None, "--run", help="Name of the run the grades are stored as (default: from the file)."),
    workers: int = typer.Option(2, min=1, help="Instances graded at once."),
) -> None:
    """Grade predictions made elsewhere with this harness's clean-room grading, stored as a run;
    a swebench-style summary (MODEL.RUN.json) is written beside the store."""
    from agentbench.recorder import RunRecorder
    from agentbench.report import build_report
    from agentbench.sandbox.docker import DockerSandboxes, docker_client
    from agentbench.store import get_run, run_attempts
    from agentbench.store_open import open_store
    from agentbench.swebench.instances import load_instances
    from agentbench.paths import results_dir
    from agentbench.swebench.predictions import grade_predictions, load_predictions, write_summaries
    from agentbench.terminal_report import render_table

    loaded = load_predictions(predictions)
    name = run_name or f"graded-{predictions.stem}-{datetime.now(timezone.utc):%Y%m%d-%H%M%S}"
    engine, client = open_store(), docker_client()
    ids = sorted({p["instance_id"] for p in loaded})

    def on_graded(row) -> None:
        mark = "[green]resolved[/]" if row.solved else f"[red]{row.grade_status}[/]"
        console.print(f"{row.task}  {row.model}  {mark}", highlight=False)

    grade_predictions(RunRecorder(engine, name), DockerSandboxes(client), swebench_images(client, repos, images),
                      load_instances(suite, ids), loaded, suite, workers, on_graded)
    rows = run_attempts(engine, name)
    render_table(build_report(get_run(engine, name), rows), console)
    for path in write_summaries(rows, results_dir(), name):
        err_console.print(f"wrote the swebench-style summary {path}", soft_wrap=True)
