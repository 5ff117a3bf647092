"""Grading a Harbor task by the machine's state: the agent's container, stopped and kept as an
image (its files, not its processes), is judged in fresh offline containers made from that
image, with the tools of the task's untouched image put back (agentbench.harbor.tools), the
tests copied in only then and the reward location cleared first.

A canary verifier runs first in a container of the same snapshot: a test.sh written here whose
honest reward is 0, beside the task's own tests. A snapshot that rewards it rewards whatever
runs in it (a wrapped shell, say): the verdict is refused as `tampered`.
"""

from __future__ import annotations

import json
import secrets
import shlex
import shutil
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import docker

from agentbench.contracts import (
    ContainerExited,
    DiskQuotaExceeded,
    ExecResult,
    SandboxFactory,
    Verdict,
)
from agentbench.grading import BrokenTask, log_tail, read_or_none
from agentbench.harbor.task import HarborTask
from agentbench.harbor.tools import Restoration, untouched_tools

VERIFIER_DIR = "/logs/verifier"
TESTS_DIR = "/tests"
CLEAR = f"if [ -L /logs ]; then rm -f /logs; fi; rm -rf {VERIFIER_DIR} {TESTS_DIR}; mkdir -p {VERIFIER_DIR} /logs/agent"
SOLVED_AT = 1.0  # a reward of 1 (or more) is a solved task


@dataclass(frozen=True)
class Reward:
    """The verifier's reward, or None, and where it came from (or why there is none)."""

    value: float | None
    source: str


def read_reward(json_text: str | None, txt_text: str | None) -> Reward:
    """The reward as Harbor's verifier reads it: reward.json's `reward` first, else reward.txt."""
    if json_text is not None:
        try:
            parsed = json.loads(json_text)
        except ValueError:
            return Reward(None, "reward.json is not JSON")
        value = parsed.get("reward") if isinstance(parsed, dict) else None
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return Reward(float(value), "reward.json")
        if txt_text is None:
            return Reward(None, "reward.json holds no numeric `reward`")
    if txt_text is None:
        return Reward(None, f"no reward file ({VERIFIER_DIR}/reward.txt or reward.json)")
    try:
        return Reward(float(txt_text.strip()), "reward.txt")
    except ValueError:
        return Reward(None, f"reward.txt holds {txt_text.strip()[:40]!r}, not a number")


def canary_script(test_sh: str) -> str:
    """A test.sh whose honest reward is 0 (it rewards only arithmetic that is wrong), started
    by the same shell as the task's own `test_sh`."""
    first = test_sh.split("\n", 1)[0].rstrip()
    shebang = first if first.startswith("#!") and first.endswith("sh") else "#!/bin/bash"
    a, b = secrets.randbelow(900) + 100, secrets.randbelow(900) + 100
    return (f"{shebang}\n# Check the outputs and write the reward.\n"
            f"if [ \"$(({a} * {b}))\" = \"{a * b + 1}\" ]; then\n  echo 1 > {VERIFIER_DIR}/reward.txt\n"
            f"else\n  echo 0 > {VERIFIER_DIR}/reward.txt\nfi\n")


def run_verifier(sandboxes: SandboxFactory, image: str, task: HarborTask, tests: Path, labels: dict[str, str],
                 tools: tuple[Restoration, Path] = (Restoration(), Path())) -> tuple[Reward, ExecResult]:
    """Run `tests`/test.sh in a fresh offline container of `image`, as Harbor does (from the
    working directory, the [verifier] env set), the untouched image's `tools` put back first
    (the restoration and the folder holding its files); the reward it left and what it printed."""
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in task.config.verifier.env.items())
    restoration, folder = tools
    with sandboxes.start(image, {"agentbench.role": "grader", **labels}, network=False, workdir=task.workdir) as box:
        if restoration.restored:
            box.copy_in(folder, "/")
        box.exec(f"{restoration.script()}\n{CLEAR}", timeout=60)
        box.copy_in(tests, TESTS_DIR)
        try:
            run = box.exec(f"{exports}chmod +x {TESTS_DIR}/test.sh 2>/dev/null; {TESTS_DIR}/test.sh",
                           timeout=task.config.verifier.timeout_sec)
        except (ContainerExited, DiskQuotaExceeded) as exc:  # what the snapshot's code did while the tests ran
            return Reward(None, f"the verifier's container failed: {exc}"), ExecResult(-1, "", str(exc), 0.0)
        reward = read_reward(read_or_none(box, f"{VERIFIER_DIR}/reward.json"), read_or_none(box, f"{VERIFIER_DIR}/reward.txt"))
    return reward, run


def run_canary(sandboxes: SandboxFactory, snapshot: str, task: HarborTask, labels: dict[str, str],
               tools: tuple[Restoration, Path]) -> Reward:
    """The canary verifier's reward in the snapshot: the task's tests folder, its test.sh swapped."""
    with tempfile.TemporaryDirectory(prefix="agentbench-canary-") as scratch:
        tests = Path(scratch) / "tests"
        shutil.copytree(task.tests_dir, tests)
        (tests / "test.sh").write_text(canary_script((task.tests_dir / "test.sh").read_text()))
        return run_verifier(sandboxes, snapshot, task, tests, labels, tools)[0]


def grade_snapshot(sandboxes: SandboxFactory, client: docker.DockerClient, image: str, snapshot: str, task: HarborTask,
                   labels: dict[str, str]) -> Verdict:
    """The verdict on the snapshot of an agent's container (`image` is the task's untouched
    environment), its verifier run with that environment's tools: refused when the canary is
    rewarded, else solved by a reward of 1."""
    with tempfile.TemporaryDirectory(prefix="agentbench-tools-") as scratch:
        tools = untouched_tools(client, image, snapshot, Path(scratch)), Path(scratch)
        return graded_snapshot(sandboxes, image, snapshot, task, labels, tools)


def graded_snapshot(sandboxes: SandboxFactory, image: str, snapshot: str, task: HarborTask, labels: dict[str, str],
                    tools: tuple[Restoration, Path]) -> Verdict:
    """`grade_snapshot` once the untouched image's tools are ready (`tools`)."""
    started = time.monotonic()
    canary = run_canary(sandboxes, snapshot, task, labels, tools)
    if canary.value:
        return Verdict(False, "tampered", None, f"agentbench: a canary verifier whose honest reward is 0 was rewarded "
                       f"{canary.value:g} ({canary.source}) in the agent's container: its environment was tampered with",
                       time.monotonic() - started)
    reward, run = run_verifier(sandboxes, snapshot, task, task.tests_dir, labels, tools)
    shown = "none" if reward.value is None else f"{reward.value:g}"
    output = "\n".join(line for line in (log_tail(run.output), tools[0].note(), f"agentbench: reward {shown} ({reward.source})")
                        if line)
    if run.timed_out:
        return Verdict(False, "check_timeout", run.exit_code, output, time.monotonic() - started)
    if reward.value is None and run_verifier(sandboxes, image, task, task.tests_dir, labels)[0].value is None:
        raise BrokenTask(f"task {task.id}: its tests/test.sh writes no reward even in the untouched environment "
                         f"({reward.source}): {log_tail(run.output, 500).strip()}")
    solved = reward.value is not None and reward.value >= SOLVED_AT
    return Verdict(solved, "passed" if solved else "failed", run.exit_code, output, time.monotonic() - started)
