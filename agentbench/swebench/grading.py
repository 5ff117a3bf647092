"""Clean-room grading of a SWE-bench patch: a fresh container from the instance image with
the network off, the patch applied as swebench applies it, swebench's eval script, and the
log judged by swebench's own log parser and `get_eval_report`."""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass

import docker
from swebench.harness.grading import get_eval_report
from swebench.harness.run_evaluation import GIT_APPLY_CMDS
from swebench.harness.test_spec.test_spec import TestSpec

from agentbench.grading import OUTPUT_TAIL_CHARS, GraderError, TestCounts, Verdict
from agentbench.sandbox.docker import DockerSandbox
from agentbench.swebench.images import InstanceImage
from agentbench.swebench.instances import Instance
from agentbench.swebench.specs import EXIT_CODE_LINE, TESTBED, eval_script

PATCH_PATH = "/tmp/patch.diff"
EVAL_PATH = "/eval.sh"
EVAL_TIMEOUT_S = 1800  # swebench's default per instance
TEST_PATH_WORDS = ("test", "e2e")  # how SWE-bench split each pull request into `patch` and `test_patch`


@dataclass(frozen=True)
class SwebenchVerdict:
    """swebench's decision on one log, with the FAIL_TO_PASS and PASS_TO_PASS counts."""

    resolved: bool
    applied: bool  # the log has the test output (the patch and test patch applied)
    f2p_passed: int
    f2p_failed: int
    p2p_passed: int
    p2p_failed: int
    exit_code: int | None


def grade_log(instance: Instance, log: str, patch: str) -> SwebenchVerdict:
    """swebench's verdict on an eval log produced for `patch`."""
    spec = TestSpec(instance_id=instance.instance_id, repo=instance.repo, version=instance.version, repo_script_list=[],
                    eval_script_list=[], env_script_list=[], arch="x86_64", FAIL_TO_PASS=instance.FAIL_TO_PASS,
                    PASS_TO_PASS=instance.PASS_TO_PASS, language="py", docker_specs={}, namespace=None)
    prediction = {"instance_id": instance.instance_id, "model_name_or_path": "agentbench", "model_patch": patch}
    with tempfile.NamedTemporaryFile("w", suffix=".log") as file:
        file.write(log)
        file.flush()
        report = get_eval_report(spec, prediction, file.name, include_tests_status=True)[instance.instance_id]
    status = report.get("tests_status", {})
    f2p, p2p = status.get("FAIL_TO_PASS", {}), status.get("PASS_TO_PASS", {})
    code = re.search(rf"^{re.escape(EXIT_CODE_LINE)} (\d+)$", log, re.MULTILINE)
    return SwebenchVerdict(
        resolved=report["resolved"], applied=report["patch_successfully_applied"],
        f2p_passed=len(f2p.get("success", [])), f2p_failed=len(f2p.get("failure", [])),
        p2p_passed=len(p2p.get("success", [])), p2p_failed=len(p2p.get("failure", [])),
        exit_code=int(code.group(1)) if code else None,
    )


def split_test_changes(patch: str) -> tuple[str, list[str]]:
    """The patch without its changes to test files, and the paths it dropped.

    SWE-bench put every file whose path holds "test" (or "e2e") into test_patch and the rest
    into the gold patch; grading the agent's patch by the same rule means that editing tests,
    conftest.py or fixtures can never change a verdict."""
    kept, dropped = [], []
    for section in re.split(r"(?m)^(?=diff --git )", patch):
        header = re.match(r"diff --git a/(\S+) b/(\S+)", section)
        if header and any(word in path for path in header.groups() for word in TEST_PATH_WORDS):
            dropped.append(header.group(2))
        else:
            kept.append(section)
    return "".join(kept), dropped


def grade_instance(client: docker.DockerClient, image: InstanceImage, instance: Instance, patch: str,
                   labels: dict[str, str] | None = None) -> Verdict:
    """swebench's verdict on `patch`, from a fresh offline container of the instance image."""
    started = time.monotonic()
    graded, dropped = split_test_changes(patch)
    note = f"ignored the patch's changes to test files: {', '.join(dropped)}\n" if dropped else ""
    with DockerSandbox.start(client, image.tag, labels={"agentbench.role": "grader", **(labels or {})},
                             network=False, workdir=TESTBED) as box:
        if graded.strip():
            box.write_file(PATCH_PATH, graded)
            for command in GIT_APPLY_CMDS:
                applied = box.exec(f"{command} {PATCH_PATH}", timeout=120)
                if applied.exit_code == 0:
                    break
            else:
                return Verdict(False, "patch_failed", applied.exit_code, note + applied.output[-OUTPUT_TAIL_CHARS:],
                               time.monotonic() - started)
        box.write_file(EVAL_PATH, eval_script(instance, conda=image.pulled))
        run = box.exec(f"bash {EVAL_PATH}", timeout=EVAL_TIMEOUT_S)
    log = run.output
    if run.timed_out:
        return Verdict(False, "check_timeout", run.exit_code, note + log, time.monotonic() - started)
    result = grade_log(instance, log, graded)
    if not result.applied:
        raise GraderError(f"the eval script of {instance.instance_id} printed no test output (exit code {run.exit_code}): "
                          f"{log[-1000:]}")
    status = "passed" if result.resolved else "failed"
    return Verdict(result.resolved, status, result.exit_code, note + log, time.monotonic() - started,
                   tests=TestCounts(result.f2p_passed, result.f2p_failed, result.p2p_passed, result.p2p_failed))


@dataclass(frozen=True)
class InstanceValidation:
    """Whether an instance is sound here: the empty patch is not resolved and the gold patch is."""

    instance_id: str
    empty: Verdict
    gold: Verdict

    @property
    def problem(self) -> str | None:
        if self.empty.solved:
            return "the empty patch is already resolved"
        if not self.gold.solved:
            return f"the gold patch is not resolved ({self.gold.status})"
        return None


def validate_instance(client: docker.DockerClient, image: InstanceImage, instance: Instance) -> InstanceValidation:
    """Grade the empty and the gold patch of one instance."""
    labels = {"agentbench.role": "validate"}
    return InstanceValidation(instance.instance_id, grade_instance(client, image, instance, "", labels),
                              grade_instance(client, image, instance, instance.patch, labels))
