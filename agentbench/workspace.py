"""The agent's working directory inside a sandbox: a task folder's workspace copied in and
git-initialised; and, for every kind of task, the agent's work as a diff at the end."""

from __future__ import annotations

from agentbench.contracts import Sandbox, SandboxError
from agentbench.tasks import Task

BASE_REF = "refs/agentbench/base"


class WorkspaceRejected(Exception):
    """The agent left a workspace that cannot be taken as a patch (too big, or git cannot read
    it): the agent's failure, counted in the rate."""


def prepare_workspace(sandbox: Sandbox, task: Task) -> None:
    """Copy the pristine workspace in and commit it, so the agent's work is a `git diff`."""
    sandbox.copy_in(task.workspace_dir, task.workdir)
    setup = f"git init -q && git add -A && git commit -q --allow-empty -m 'task start' && git update-ref {BASE_REF} HEAD"
    result = sandbox.exec(setup, timeout=60, cwd=task.workdir)
    if result.exit_code != 0:
        raise SandboxError(f"could not initialise the workspace of {task.id}: {result.output.strip()}")


def workspace_diff(sandbox: Sandbox) -> str:
    """Everything the agent changed in its working directory since the start (the commit
    BASE_REF marks), new files included, as a git patch. The sandbox answering but git
    failing, or a patch over the output cap, is what the agent left: WorkspaceRejected."""
    result = sandbox.exec(f"git add -A && git diff --cached --binary {BASE_REF}", timeout=120)
    if result.timed_out:
        raise WorkspaceRejected("git could not diff the workspace within 120 s (the agent left it too large)")
    if result.exit_code != 0:
        raise WorkspaceRejected(f"git could not diff the workspace (exit {result.exit_code}): {result.stderr.strip()[-500:]}")
    if result.truncated:
        raise WorkspaceRejected("the workspace diff is larger than the most a patch may be (the sandbox's output cap)")
    return result.stdout
