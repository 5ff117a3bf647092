"""The command line. Each command imports what it needs when it runs, so `--help` and the
light commands answer at once; the commands live in topic modules beside this one."""

from __future__ import annotations

import sys

import typer

from agentbench.cli import (
    cluster_commands,
    model_commands,
    result_commands,
    run_commands,
    sandbox_commands,
    task_commands,
    view_commands,
)
from agentbench.errors import UserError

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Evaluate agent configurations on real tasks in Docker sandboxes.")
images_app = typer.Typer(no_args_is_help=True, help="Sandbox images: list, build, prune.")
runs_app = typer.Typer(help="The runs in the store: list them, or `runs delete RUN`.")
sandbox_app = typer.Typer(no_args_is_help=True, help="Sandbox containers.")
app.add_typer(runs_app, name="runs")
app.add_typer(images_app, name="images")
app.add_typer(sandbox_app, name="sandbox")

for command in (run_commands.run, result_commands.report, result_commands.compare, result_commands.show,
                result_commands.history, task_commands.tasks, result_commands.export, task_commands.grade,
                model_commands.models, model_commands.serve, view_commands.view, cluster_commands.worker):
    app.command()(command)
runs_app.callback(invoke_without_command=True)(result_commands.runs)
runs_app.command("delete")(result_commands.delete)
images_app.command("list")(sandbox_commands.images_list)
images_app.command("build")(sandbox_commands.images_build)
images_app.command("prune")(sandbox_commands.images_prune)
sandbox_app.command("prune")(sandbox_commands.sandbox_prune)


def main() -> None:
    """Console-script entry: a user's mistake is one sentence on stderr and exit code 2; a known
    fault of the engine, the store or the disk one sentence and exit code 1."""
    from agentbench.faults import fault_sentence

    try:
        app()
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        sys.exit(2)
    except Exception as exc:
        sentence = fault_sentence(exc)
        if sentence is None:
            raise
        print(f"error: {sentence}.", file=sys.stderr)
        sys.exit(1)
