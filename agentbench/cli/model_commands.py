"""The model profiles, and serving a self-hosted one."""

from __future__ import annotations

import shlex
import signal
from pathlib import Path
from typing import Optional

import typer

from agentbench.cli.output import console, err_console
from agentbench.cli.run_commands import raise_interrupt
from agentbench.errors import UserError


def models(models_file: Optional[Path] = typer.Option(None, "--models-file", help="Extra model profiles (YAML).")) -> None:
    """The model profiles: provider, model, GPUs and prices (with the date they were taken)."""
    from rich.table import Table

    from agentbench.cost import price_text
    from agentbench.models.profiles import load_profiles

    table = Table("profile", "provider", "model", "GPUs", "prices", "notes")
    for profile in load_profiles(models_file).values():
        model = profile.model or (f"${profile.model_env}" if profile.model_env else "")
        gpus = str(profile.gpus) if profile.gpus else ""
        table.add_row(profile.label, profile.provider, model, gpus, price_text(profile), profile.description)
    console.print(table)


def serve(
    profile_name: str = typer.Argument(..., metavar="PROFILE", help="A self-hosted model profile (vllm or llamacpp)."),
    port: int = typer.Option(8000, help="Port to serve on."),
    host: str = typer.Option("127.0.0.1", help="Address to listen on."),
    dry_run: bool = typer.Option(False, "--dry-run", help="Print the server command and exit."),
    models_file: Optional[Path] = typer.Option(None, "--models-file", help="Extra model profiles (YAML)."),
) -> None:
    """Serve a self-hosted model (vLLM on GPUs, llama.cpp on the CPU) in the foreground (Ctrl-C stops it)."""
    from agentbench.models.llamacpp import gguf_path, llamacpp_command
    from agentbench.models.profiles import get_profile, load_profiles
    from agentbench.models.server_process import check_port_free
    from agentbench.models.serving import SELF_HOSTED, launcher_for, server_log
    from agentbench.models.vllm import serve_command

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
    signal.signal(signal.SIGTERM, raise_interrupt)
    err_console.print(f"starting {server.label}; log: {server.log_path}")
    with server:
        err_console.print(f"serving {profile.resolved_model()} at {server.base_url} (Ctrl-C stops it)")
        try:
            server.process.wait()
        except KeyboardInterrupt:
            err_console.print(f"stopping {server.label}")
    if server.process.returncode not in (0, -signal.SIGTERM, -signal.SIGKILL):
        raise UserError(f"{server.label} exited with code {server.process.returncode}; its log is {server.log_path}.")
