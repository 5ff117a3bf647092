"""Harbor tasks in the harness: environment images built before the run, the agent's container
kept as a snapshot when it stops, graded by the reward its verifier writes (agentbench.harbor.grading).

Every sandbox runs with agentbench's limits, and grading is offline; where a task.toml asks for
other resources, users or a verifier with the network, the run records the difference.
"""

from __future__ import annotations

import docker
import docker.errors

from agentbench.contracts import (
    Sandbox,
    SandboxFactory,
    SandboxLimits,
    Verdict,
)
from agentbench.grading import GraderError, TaskValidation, validation
from agentbench.harbor.grading import grade_snapshot
from agentbench.harbor.images import environment_image
from agentbench.harbor.task import HarborTask
from agentbench.sandbox.docker import docker_client
from agentbench.sandbox.images import Progress, build_lock, image_exists, quiet

SNAPSHOT = "agentbench snapshot "  # what capture() returns: this, then the image's id
SOLUTION_PATH = "/tmp/agentbench-solution.sh"


class HarborTasks:
    """The harness's side of Harbor task folders."""

    def __init__(self, client: docker.DockerClient, progress: Progress = quiet):
        self.client, self.progress = client, progress
        self.images: dict[str, str] = {}  # task id -> its environment image
        self.elsewhere = False  # sent to another process, whose engine may lack the images built here

    def __reduce__(self):
        """Sent to another process, it runs attempts in the images built here (building them
        there if that engine lacks them), on the engine that process's environment names."""
        return _harbor_tasks_elsewhere, (self.images,)

    def prepare(self, tasks: list[HarborTask]) -> list[str]:
        for task in tasks:
            self.images[task.id] = environment_image(self.client, task, self.progress)
        return deviations(tasks)

    def image(self, task: HarborTask) -> str:
        if task.id not in self.images or (self.elsewhere and not image_exists(self.client, self.images[task.id])):
            with build_lock(task.id):  # one build per machine, however many processes ask
                self.images[task.id] = environment_image(self.client, task)
        return self.images[task.id]

    def setup(self, sandbox: Sandbox, task: HarborTask) -> None:
        make_log_folders(sandbox)

    def capture(self, sandbox: Sandbox, task: HarborTask) -> str:
        """The agent's container, stopped and kept as an image: what the grader judges."""
        return SNAPSHOT + sandbox.snapshot()

    def grade(self, sandboxes: SandboxFactory, task: HarborTask, work: str, labels: dict[str, str]) -> Verdict:
        if not work.startswith(SNAPSHOT):
            raise GraderError(f"task {task.id}: no snapshot of the agent's container to grade")
        snapshot = work.removeprefix(SNAPSHOT).strip()
        try:
            return grade_snapshot(sandboxes, self.client, self.image(task), snapshot, task, labels)
        finally:
            discard(self.client, snapshot)

    def release(self, task: HarborTask) -> None:
        pass


def _harbor_tasks_elsewhere(images: dict[str, str]) -> HarborTasks:
    kinds = HarborTasks(docker_client())
    kinds.images, kinds.elsewhere = dict(images), True
    return kinds


def make_log_folders(sandbox: Sandbox) -> None:
    """The folders Harbor mounts into every container, there for tasks that expect them."""
    sandbox.exec("mkdir -p /logs/agent /logs/verifier", timeout=60)


def discard(client: docker.DockerClient, snapshot: str) -> None:
    """Remove a snapshot image once it is graded."""
    try:
        client.images.remove(snapshot, force=True)
    except docker.errors.NotFound:
        pass


def deviations(tasks: list[HarborTask]) -> list[str]:
    """What the run does differently from what these tasks' task.toml ask, one note each."""
    limits, notes = SandboxLimits(), []
    ours = {"cpus": limits.cpus, "memory_mb": _megabytes(limits.memory), "storage_mb": limits.disk_bytes // 2**20}
    for task in tasks:
        environment = task.config.environment
        asked = {"cpus": environment.cpus, "memory_mb": environment.memory_mb, "storage_mb": environment.storage_mb}
        differ = {key: value for key, value in asked.items() if value is not None and value != ours[key]}
        if differ:
            notes.append(f"{task.id}: task.toml asks for {_resources(differ)}; its sandboxes had agentbench's "
                         f"{_resources({key: ours[key] for key in differ})}")
        users = {phase: getattr(task.config, phase).user for phase in ("agent", "verifier")}
        for phase, user in users.items():
            if user is not None:
                notes.append(f"{task.id}: the {phase} ran as the image's user, not {user!r} as task.toml asks")
        if (task.config.agent.network_mode or environment.baseline_network()) == "allowlist":
            notes.append(f"{task.id}: the agent had no network (task.toml asks for an allowlist, which agentbench does not filter)")
    offline = [task.id for task in tasks if task.verifier_network]
    if offline:
        notes.append(f"graded offline although task.toml lets the verifier reach the network: {', '.join(offline)}")
    return notes


def _megabytes(size: str) -> int:
    units = {"k": 1 / 1024, "m": 1, "g": 1024}
    return int(float(size[:-1]) * units[size[-1].lower()]) if size[-1].lower() in units else int(size) // 2**20


def _resources(values: dict) -> str:
    names = {"cpus": "CPUs", "memory_mb": "MB of memory", "storage_mb": "MB of disk"}
    return ", ".join(f"{value:g} {names[key] if value != 1 else names[key].rstrip('s')}" for key, value in values.items())


def validate_harbor_task(sandboxes: SandboxFactory, client: docker.DockerClient, image: str,
                         task: HarborTask) -> TaskValidation:
    """Grade the untouched environment and the one solve.sh leaves."""
    labels = {"agentbench.role": "validate"}

    def graded(script: str | None) -> Verdict:
        snapshot = snapshot_after(sandboxes, image, task, script, labels)
        try:
            return grade_snapshot(sandboxes, client, image, snapshot, task, labels)
        finally:
            discard(client, snapshot)

    solution = task.solution_patch
    return validation(task.id, lambda: graded(None), None if solution is None else lambda: graded(solution))


def snapshot_after(sandboxes: SandboxFactory, image: str, task: HarborTask, script: str | None,
                   labels: dict[str, str]) -> str:
    """A snapshot of a fresh sandbox of the task after `script` ran in it (None: nothing ran)."""
    with sandboxes.start(image, {"agentbench.role": "agent", **labels}, network=task.network, workdir=task.workdir) as box:
        make_log_folders(box)
        if script is not None:
            box.write_file(SOLUTION_PATH, script)
            box.exec(f"bash {SOLUTION_PATH}", timeout=task.limits.seconds)
        return box.snapshot()
