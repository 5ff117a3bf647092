"""Kinds of task: what each needs from the harness (images, a prepared sandbox, a grader).

A task folder (task.yaml) runs in a recipe image with its workspace copied in and is graded
by its check; a SWE-bench instance (agentbench.swebench.task_kind) runs in its instance image and
is graded by swebench's code.
"""

from __future__ import annotations

from pathlib import Path

import docker

from agentbench.contracts import Sandbox, SandboxFactory, Verdict
from agentbench.grading import grade
from agentbench.sandbox.docker import docker_client
from agentbench.sandbox.images import (
    Progress,
    build_lock,
    ensure_image,
    image_exists,
    quiet,
)
from agentbench.tasks import Task
from agentbench.workspace import prepare_workspace, workspace_diff


class FolderTasks:
    """Task folders: a recipe image under sandboxes/, the workspace copied in, the check run."""

    def __init__(self, client: docker.DockerClient, ca_bundle: Path | None = None, progress: Progress = quiet):
        self.client, self.ca_bundle, self.progress = client, ca_bundle, progress
        self.images: dict[str, str] = {}
        self.elsewhere = False  # sent to another process, whose engine may lack the images prepared here

    def __reduce__(self):
        """Sent to another process, it runs attempts in the images prepared here, on the engine
        that process's environment names."""
        return _folder_tasks_elsewhere, (self.ca_bundle, self.images)

    def prepare(self, tasks: list[Task]) -> list[str]:
        for name in sorted({task.spec.image for task in tasks}):
            self.images[name] = ensure_image(self.client, name, self.ca_bundle, self.progress)
        return []

    def image(self, task: Task) -> str:
        name = task.spec.image
        if self.elsewhere and not image_exists(self.client, self.images[name]):
            with build_lock(self.images[name]):  # one build per machine, however many processes ask
                self.images[name] = ensure_image(self.client, name, self.ca_bundle)
        return self.images[name]

    def setup(self, sandbox: Sandbox, task: Task) -> None:
        prepare_workspace(sandbox, task)

    def capture(self, sandbox: Sandbox, task: Task) -> str:
        return workspace_diff(sandbox)

    def grade(self, sandboxes: SandboxFactory, task: Task, patch: str, labels: dict[str, str]) -> Verdict:
        return grade(sandboxes, self.image(task), task, patch, labels)

    def release(self, task: Task) -> None:
        pass


def _folder_tasks_elsewhere(ca_bundle: Path | None, images: dict[str, str]) -> FolderTasks:
    kinds = FolderTasks(docker_client(), ca_bundle)
    kinds.images, kinds.elsewhere = dict(images), True
    return kinds
