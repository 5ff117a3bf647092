"""Where attempts run: in this process (the default), or as tasks on a Ray cluster
(agentbench.cluster, `--executor ray`). The runner schedules and records either way."""

from __future__ import annotations

import socket
from typing import Protocol

from agentbench.attempt import AttemptJob, AttemptResult, run_attempt
from agentbench.contracts import OnStep, SandboxFactory
from agentbench.errors import UserError

EXECUTORS = ("local", "ray")
RESOURCE = "agentbench_docker"  # the Ray resource of a node with a Docker engine: its slots
CLUSTER_LABEL = "agentbench.cluster"  # on the containers of attempts a Ray node runs


class Executor(Protocol):
    """Runs attempt jobs somewhere and hands back their results; `slots` is how many it can run
    at once (None: as many as the run's --workers), `nodes` what the lock records of each node,
    `reached_at` the address its nodes reach this machine at (None: they are this machine)."""

    slots: int | None
    nodes: list[dict]
    reached_at: str | None

    def run(self, key: str, job: AttemptJob, on_step: OnStep) -> AttemptResult: ...

    def remove_sandboxes(self, labels: dict[str, str]) -> int: ...

    def close(self) -> None: ...


class LocalExecutor:
    """Attempts on this process's threads, in sandboxes of `sandboxes`."""

    slots = None
    reached_at = None

    def __init__(self, sandboxes: SandboxFactory):
        self.sandboxes = sandboxes
        self.nodes = [{"node": socket.gethostname()}]

    def run(self, key: str, job: AttemptJob, on_step: OnStep) -> AttemptResult:
        result = run_attempt(job, on_step)
        result.node = self.nodes[0]["node"]
        return result

    def remove_sandboxes(self, labels: dict[str, str]) -> int:
        return self.sandboxes.remove(labels)

    def close(self) -> None:
        pass


def executor_for(name: str, sandboxes: SandboxFactory, address: str | None = None) -> Executor:
    """The executor `name` (one of EXECUTORS)."""
    if name == "ray":
        try:
            from agentbench.cluster.ray_executor import RayExecutor
        except ImportError:
            raise UserError("--executor ray needs Ray on this machine and on every node: pip install 'agentbench[cluster]'.") from None
        return RayExecutor(address)
    return LocalExecutor(sandboxes)
