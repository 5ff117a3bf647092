"""Clean-room grading: a fresh container, the pristine workspace, the patch, the hidden tests.

Nothing the agent did to its own container reaches here but its patch; the network is off.
"""

from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from agentbench.contracts import (
    ContainerExited,
    DiskQuotaExceeded,
    Sandbox,
    SandboxError,
    SandboxFactory,
    TestCounts,
    Verdict,
)
from agentbench.canaries import plant
from agentbench.evidence import (
    CANNOT_START,
    SEALED,
    Canary,
    expected_tests,
    read_evidence,
)
from agentbench.judgement import judge
from agentbench.tasks import Task
from agentbench.workspace import prepare_workspace

PATCH_PATH = "/tmp/agentbench-patch.diff"
TESTS_PATH = f"{SEALED}/tests"
CHECK_TIMEOUT_S = 900
OUTPUT_TAIL_CHARS = 4000


class GraderError(Exception):
    """The grader could not reach a verdict (no test output, say): the harness's failure, not the agent's."""


class BrokenTask(GraderError):
    """The task's check cannot run even on the untouched workspace: the task's fault, not worth a retry."""




def graded_status(verdict: Verdict | None) -> str:
    """An attempt's status from its verdict: solved, tampered, or unsolved."""
    if verdict is not None and verdict.solved:
        return "solved"
    return "tampered" if verdict is not None and verdict.status == "tampered" else "unsolved"


def test_columns(tests: TestCounts | None) -> dict[str, int | None]:
    """The counts as the store's attempt columns (None where the task has no test lists)."""
    names = ("f2p_passed", "f2p_failed", "p2p_passed", "p2p_failed")
    return {name: getattr(tests, name) if tests else None for name in names}




def log_tail(text: str, limit: int = OUTPUT_TAIL_CHARS) -> str:
    """The end of a log, at most about `limit` characters, from the start of a line: what decides a
    verdict (pytest's summary line) comes last, and a cut line reads as noise."""
    if len(text) <= limit:
        return text
    tail = text[-limit:]
    newline = tail.find("\n")
    kept = tail[newline + 1:] if 0 <= newline < len(tail) - 1 else tail
    return f"[{len(text) - len(kept)} earlier characters left out]\n{kept}"


def seal(folder: Path, files: dict[str, str]) -> None:
    """Write `files` (container paths under SEALED) into the host folder mounted read-only there."""
    for path, content in files.items():
        target = folder / Path(path).relative_to(SEALED)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(content)


def grade(sandboxes: SandboxFactory, image: str, task: Task, patch: str, labels: dict[str, str] | None = None) -> Verdict:
    """Apply `patch` to a pristine workspace in a fresh offline container, run the check armed
    with the evidence plugin, and judge by the evidence (agentbench.judgement). The hidden tests,
    with canaries planted in them, and the plugin are read-only to everything the check runs."""
    with tempfile.TemporaryDirectory(prefix="agentbench-grader-") as scratch:
        sealed = Path(scratch)
        canary = Canary.new(plant(task.tests_dir, sealed / "tests", TESTS_PATH))
        seal(sealed, canary.files())
        return graded(sandboxes, image, task, patch, labels, canary, sealed)


def graded(sandboxes: SandboxFactory, image: str, task: Task, patch: str, labels: dict[str, str] | None,
           canary: Canary, sealed: Path) -> Verdict:
    """`grade` once the grader's files are ready in `sealed` and `canary` names what they hold."""
    started = time.monotonic()
    with sandboxes.start(image, {"agentbench.role": "grader", **(labels or {})}, network=False, workdir=task.workdir,
                         sealed={SEALED: sealed}) as box:
        prepare_workspace(box, task)
        if patch.strip():
            box.write_file(PATCH_PATH, patch)
            applied = box.exec(f"git apply --whitespace=nowarn {PATCH_PATH}", timeout=120)
            if applied.exit_code != 0:
                return Verdict(False, "patch_failed", applied.exit_code, log_tail(applied.output), time.monotonic() - started)
        box.write_file(canary.results_file, "")
        try:
            check = box.exec(canary.environment() + task.spec.check, timeout=CHECK_TIMEOUT_S)
        except (ContainerExited, DiskQuotaExceeded) as exc:  # what the patched code did while the tests ran
            return Verdict(False, "failed", None, f"agentbench: {exc}", time.monotonic() - started)
        evidence = read_evidence(read_or_none(box, canary.results_file))
    output, elapsed = log_tail(check.output), time.monotonic() - started
    if check.timed_out:
        return Verdict(False, "check_timeout", check.exit_code, output, elapsed)
    if check.exit_code in CANNOT_START and not evidence.loaded:
        if not patch.strip():
            raise BrokenTask(f"task {task.id}: its check cannot start (exit {check.exit_code}): {output.strip()[-500:]}")
        grade(sandboxes, image, task, "", labels)  # raises BrokenTask when the untouched workspace cannot run it either
        return Verdict(False, "failed", check.exit_code, f"{output}\nthe check could not start after this patch", elapsed)
    expected = expected_tests(task.tests_dir)
    if not expected:  # not pytest files: the exit code is all the evidence there is (`tasks --audit` shows it)
        status = "passed" if check.exit_code == 0 else "failed"
        return Verdict(status == "passed", status, check.exit_code, output, elapsed)
    judgement = judge(check.exit_code, evidence, canary, expected, TESTS_PATH, patch, task.workdir)
    if judgement.reason:
        output = f"{output}\nagentbench: {judgement.reason}"
    return Verdict(judgement.status == "passed", judgement.status, check.exit_code, output, elapsed)


def read_or_none(box: Sandbox, path: str) -> str | None:
    """A file's text in the container, or None when it is not there."""
    try:
        return box.read_file(path)
    except (FileNotFoundError, IsADirectoryError):
        return None


@dataclass(frozen=True)
class TaskValidation:
    """Whether a task is sound: the untouched workspace fails and the reference solves."""

    task: str
    untouched: Verdict | None
    reference: Verdict | None
    broken: str | None = None  # why the check cannot run at all

    @property
    def problem(self) -> str | None:
        if self.broken:
            return self.broken
        if self.untouched.solved:
            return "the untouched workspace already passes the check"
        if self.reference is None:
            return "no reference solution to prove the task"
        if self.reference.status == "patch_failed":
            return "the reference solution does not apply to the workspace (git apply failed)"
        if not self.reference.solved:
            return f"the reference solution does not pass ({self.reference.status})"
        return None


def validate_task(sandboxes: SandboxFactory, image: str, task: Task) -> TaskValidation:
    """Grade the empty patch and the reference solution of one task."""
    labels = {"agentbench.role": "validate"}
    solution = task.solution_patch
    return validation(task.id, lambda: grade(sandboxes, image, task, "", labels=labels),
                      None if solution is None else lambda: grade(sandboxes, image, task, solution, labels=labels))


def validation(task_id: str, untouched: Callable[[], Verdict], reference: Callable[[], Verdict] | None) -> TaskValidation:
    """A task's verdicts untouched and solved by its reference (None: it ships none); a broken
    task, or a sandbox or grader that fails, says so under the task's name."""
    try:
        return TaskValidation(task_id, untouched(), reference() if reference else None)
    except BrokenTask as exc:
        return TaskValidation(task_id, None, None, broken=str(exc))
    except (GraderError, SandboxError) as exc:
        return TaskValidation(task_id, None, None, broken=f"it could not be checked: the sandbox or grader failed "
                                                         f"({str(exc).strip() or exc.__class__.__name__})")
