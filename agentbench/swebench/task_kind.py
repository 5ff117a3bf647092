"""SWE-bench instances in the harness: environment images built before the run, instance
images when their first attempt starts (removed after their last, with --prune-images),
grading by swebench's code."""

from __future__ import annotations

import threading

from agentbench.contracts import Sandbox, SandboxError, SandboxFactory, Verdict
from agentbench.errors import UserError
from agentbench.swebench.grading import grade_instance
from agentbench.swebench.images import InstanceImage, SwebenchImages
from agentbench.swebench.task import SwebenchTask
from agentbench.workspace import workspace_diff


class SwebenchTasks:
    """The harness's side of SWE-bench instances."""

    def __init__(self, images: SwebenchImages, prune: bool = False):
        self.images = images
        self.prune = prune
        self._built: dict[str, InstanceImage] = {}
        self._lock = threading.Lock()

    def __reduce__(self):
        """Sent to another process, it makes (or pulls) its instance images there."""
        return SwebenchTasks, (self.images, self.prune)

    def prepare(self, tasks: list[SwebenchTask]) -> list[str]:
        for task in tasks:
            self.images.check(task.instance)
        if self.images.mode != "build" and tasks:  # the first pull says whether a registry answers, before any attempt starts
            self._built[tasks[0].id] = self.images.instance(tasks[0].instance)
            if self.images.mode == "pull" or not self.images.registry_down.is_set():
                return []  # pulled images need no environments built here
        notes, environments = [], {}
        for task in tasks:
            deviation = self.images.python(task.instance).deviation
            if deviation:
                notes.append(f"{task.id}: {deviation}")
            environments.setdefault((task.instance.repo, task.instance.version, task.instance.environment_setup_commit), task)
        for task in environments.values():
            self.images.environment(task.instance)
        return notes

    def image(self, task: SwebenchTask) -> str:
        return self._instance_image(task).tag

    def setup(self, sandbox: Sandbox, task: SwebenchTask) -> None:
        pass  # the instance image holds the installed testbed and marks where the agent starts

    def capture(self, sandbox: Sandbox, task: SwebenchTask) -> str:
        return workspace_diff(sandbox)

    def grade(self, sandboxes: SandboxFactory, task: SwebenchTask, patch: str, labels: dict[str, str]) -> Verdict:
        return grade_instance(sandboxes, self._instance_image(task), task.instance, patch, labels)

    def release(self, task: SwebenchTask) -> None:
        with self._lock:
            image = self._built.pop(task.id, None)
        if self.prune and image is not None:
            self.images.remove(image)

    def _instance_image(self, task: SwebenchTask) -> InstanceImage:
        with self._lock:
            known = self._built.get(task.id)
        if known is not None:
            return known
        try:
            image = self.images.instance(task.instance)
        except UserError as exc:
            raise SandboxError(f"the image of {task.id} could not be made: {exc}") from None
        with self._lock:
            self._built[task.id] = image
        return image
