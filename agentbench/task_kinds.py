"""Kinds of task: what each needs from the harness (images, a prepared sandbox, a grader).

A task folder (task.yaml) runs in a recipe image with its workspace copied in and is graded
by its check; a SWE-bench instance (agentbench.swebench.task_kind) runs in its instance image and
is graded by swebench's code.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

import docker

from agentbench.grading import Verdict, grade
from agentbench.sandbox import Sandbox, SandboxFactory
from agentbench.sandbox.images import Progress, ensure_image
from agentbench.tasks import Task
from agentbench.tasks.model import Limits
from agentbench.workspace import prepare_workspace


class RunnableTask(Protocol):
    """What the runner and the agents need of any task."""

    kind: str  # which TaskKind serves it
    id: str
    prompt: str
    limits: Limits
    network: bool  # whether the agent's sandbox may reach the network
    workdir: str  # where the agent works, and what its diff covers
    solution_patch: str | None  # the reference solution, replayed by the `oracle` baseline
    content_hash: str  # changes whenever what the agent or the grader sees changes


class TaskKind(Protocol):
    """The harness's side of one kind of task."""

    def prepare(self, tasks: list[RunnableTask]) -> list[str]:
        """Check and build what these tasks need before any attempt starts; returns notes to
        record with the run (deviations from what the tasks specify)."""

    def image(self, task: RunnableTask) -> str:
        """The image an attempt (and its grading) starts from."""

    def setup(self, sandbox: Sandbox, task: RunnableTask) -> None:
        """Make the fresh sandbox ready for the agent."""

    def grade(self, sandboxes: SandboxFactory, task: RunnableTask, patch: str, labels: dict[str, str]) -> Verdict:
        """The clean-room verdict on the agent's patch, in a fresh sandbox of `sandboxes`."""

    def release(self, task: RunnableTask) -> None:
        """Every attempt of `task` in this run is done."""


class FolderTasks:
    """Task folders: a recipe image under sandboxes/, the workspace copied in, the check run."""

    def __init__(self, client: docker.DockerClient, ca_bundle: Path | None = None, progress: Progress = lambda line: None):
        self.client, self.ca_bundle, self.progress = client, ca_bundle, progress
        self.images: dict[str, str] = {}

    def prepare(self, tasks: list[Task]) -> list[str]:
        for name in sorted({task.spec.image for task in tasks}):
            self.images[name] = ensure_image(self.client, name, self.ca_bundle, self.progress)
        return []

    def image(self, task: Task) -> str:
        return self.images[task.spec.image]

    def setup(self, sandbox: Sandbox, task: Task) -> None:
        prepare_workspace(sandbox, task)

    def grade(self, sandboxes: SandboxFactory, task: Task, patch: str, labels: dict[str, str]) -> Verdict:
        return grade(sandboxes, self.image(task), task, patch, labels)

    def release(self, task: Task) -> None:
        pass
