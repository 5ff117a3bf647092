"""`agentbench worker`: this machine joins a Ray cluster as a node that runs attempts."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from typing import Optional

import typer

from agentbench.cli.output import err_console
from agentbench.errors import UserError


def worker(
    address: Optional[str] = typer.Option(None, "--address", help="Join the cluster whose head is at HOST:PORT."),
    head: bool = typer.Option(False, "--head", help="Start a cluster's head here instead (it runs attempts too)."),
    slots: int = typer.Option(2, "--slots", min=1, help="Attempts this node runs at once in its Docker engine."),
    port: int = typer.Option(6379, "--port", min=1, max=65535, help="With --head: the port the cluster listens on."),
) -> None:
    """Join (or start) a Ray cluster as a node that runs attempts in this machine's Docker engine;
    `ray stop` takes it out. Containers left by this node's earlier attempts are removed first."""
    from agentbench.executors import CLUSTER_LABEL, RESOURCE
    from agentbench.sandbox.docker import docker_client, remove_containers

    if head == bool(address):
        raise UserError("Give exactly one of --address HOST:PORT (join a cluster) or --head (start one here).")
    if importlib.util.find_spec("ray") is None:
        raise UserError("A cluster node needs Ray: pip install 'agentbench[cluster]' (the same version on every node).")
    removed = remove_containers(docker_client(), {CLUSTER_LABEL: "1"})
    if removed:
        err_console.print(f"removed {removed} container(s) left by this node's earlier attempts")
    where = ["--head", "--port", str(port)] if head else ["--address", address]
    ray = [sys.executable, "-m", "ray.scripts.scripts"]  # this environment's Ray, on PATH or not
    started = subprocess.run([*ray, "start", *where, "--resources", json.dumps({RESOURCE: slots})])
    if started.returncode:
        raise UserError(f"`ray start` failed (exit {started.returncode}); its output above says why.")
    err_console.print(f"this node runs up to {slots} attempt(s) at once; `ray stop` takes it out of the cluster")
