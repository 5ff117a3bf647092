"""Clean-room grading of a SWE-bench patch: a fresh container from the instance image with
the network off, the whole patch applied as swebench applies it (its eval script then resets
the files the instance's test patch touches), the eval script armed with the evidence plugin,
and the log judged by swebench's own log parser and `get_eval_report`.

Only the test command's output, between markers named by a fresh nonce, reaches swebench's
parser, with swebench's own markers taken out of it: whatever the patched code prints cannot
end the section early or mark the run as errored. Where the tests run under pytest, the
canaries (in a file of their own and planted in the instance's test files) and the plugin's
records must agree with what the log says passed."""

from __future__ import annotations

import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from agentbench.contracts import (
    ContainerExited,
    DiskQuotaExceeded,
    SandboxFactory,
    TestCounts,
    Verdict,
)
from agentbench.evidence import SEALED, Canary, Evidence, read_evidence
from agentbench.grading import GraderError, log_tail, read_or_none, seal
from agentbench.judgement import tampering as evidence_tampering
from agentbench.swebench.images import InstanceImage
from agentbench.swebench.instances import Instance
from agentbench.swebench.planting import planted_script
from agentbench.swebench.specs import EXIT_CODE_LINE, TESTBED, eval_script
from agentbench.swebench.upstream import (
    APPLY_PATCH_FAIL,
    END_TEST_OUTPUT,
    GIT_APPLY_CMDS,
    RESET_FAILED,
    START_TEST_OUTPUT,
    TESTS_ERROR,
    TESTS_TIMEOUT,
    TestSpec,
    get_eval_report,
)

PATCH_PATH = "/tmp/patch.diff"
EVAL_PATH = f"{SEALED}/eval.sh"  # read-only: the tests cannot rewrite the script bash is reading
EVAL_TIMEOUT_S = 1800  # swebench's default per instance
SWEBENCH_MARKERS = (APPLY_PATCH_FAIL, RESET_FAILED, TESTS_ERROR, TESTS_TIMEOUT, START_TEST_OUTPUT, END_TEST_OUTPUT)


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
    passed_tests: tuple[str, ...] = ()  # the FAIL_TO_PASS and PASS_TO_PASS tests the log shows passing


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
    return SwebenchVerdict(
        resolved=report["resolved"], applied=report["patch_successfully_applied"],
        f2p_passed=len(f2p.get("success", [])), f2p_failed=len(f2p.get("failure", [])),
        p2p_passed=len(p2p.get("success", [])), p2p_failed=len(p2p.get("failure", [])),
        exit_code=exit_code_in(log),
        passed_tests=tuple(f2p.get("success", [])) + tuple(p2p.get("success", [])),
    )


def exit_code_in(log: str) -> int | None:
    """The test command's exit code, as the eval script's last exit code line records it."""
    codes = re.findall(rf"^{re.escape(EXIT_CODE_LINE)} (\d+)$", log, re.MULTILINE)
    return int(codes[-1]) if codes else None


def armed_script(script: str, canary: Canary) -> str:
    """The eval script with the test command's output (stderr too) between the canary's nonce
    markers, and every pytest it starts loading the evidence plugin."""
    lines = script.splitlines()
    start = next((i for i, line in enumerate(lines) if START_TEST_OUTPUT in line), None)
    end = next((i for i, line in enumerate(lines) if END_TEST_OUTPUT in line and start is not None and i > start), None)
    if start is None or end is None:
        raise GraderError("the eval script has no test output markers to arm")
    begin_section = [*canary.environment().splitlines(), "exec 3>&2 2>&1", f"echo '{section_marker(canary, 'start')}'"]
    end_section = [f"echo '{section_marker(canary, 'end')}'", "exec 2>&3 3>&-"]
    return "\n".join([*lines[:start], *begin_section, *lines[start + 1:end], *end_section, *lines[end:]]) + "\n"


def section_marker(canary: Canary, which: str) -> str:
    return f"agentbench-tests-{which}-{canary.nonce}"


def output_section(log: str, canary: Canary) -> tuple[str | None, bool]:
    """The test command's output (None when it never started) and whether it ran to its end."""
    lines = log.splitlines()
    starts = [i for i, line in enumerate(lines) if line == section_marker(canary, "start")]
    ends = [i for i, line in enumerate(lines) if line == section_marker(canary, "end")]
    if not starts:
        return None, False
    stop = ends[-1] if ends and ends[-1] > starts[0] else len(lines)
    return "\n".join(lines[starts[0] + 1:stop]), bool(ends) and ends[-1] > starts[0]


def swebench_log(section: str) -> str:
    """A log for swebench's parser: the test output alone, any of swebench's markers in it
    (printed by the code under test) taken out, between swebench's own markers."""
    for marker in SWEBENCH_MARKERS:
        section = section.replace(marker, "[marker printed by the tests]")
    return f"{START_TEST_OUTPUT}\n{section}\n{END_TEST_OUTPUT}\n"


def runs_pytest(script: str) -> bool:
    """Whether the eval script's test command is pytest (so the evidence plugin must load)."""
    tests = script.split(START_TEST_OUTPUT, 1)[-1].split(END_TEST_OUTPUT, 1)[0]
    return "pytest" in tests


def tampering(evidence: Evidence, canary: Canary, result: SwebenchVerdict, pytest_run: bool, patch: str) -> str | None:
    """Why the evidence contradicts a resolved log, if it does: a canary reported wrongly, pytest
    hooks the patch brought, or tests the log shows passing that pytest did not record as passed."""
    problem = evidence_tampering(evidence, canary, patch, TESTBED, result.resolved and pytest_run)
    if problem or not (result.resolved and pytest_run):
        return problem
    if not evidence.loaded:
        return "the log shows the tests passing but pytest never loaded the grader's plugin (pytest replaced or bypassed)"
    contradicted = [name for name in result.passed_tests if evidence.outcomes.get(name) not in (None, "passed")]
    if contradicted:
        return f"the log shows tests passing that pytest recorded otherwise: {', '.join(contradicted[:5])}"
    unrecorded = [name for name in result.passed_tests if name not in evidence.outcomes]
    if unrecorded and evidence.exitstatus is None:
        return f"the log shows tests passing that pytest never ran to the end: {', '.join(unrecorded[:5])}"
    return None


def grade_instance(sandboxes: SandboxFactory, image: InstanceImage, instance: Instance, patch: str,
                   labels: dict[str, str] | None = None) -> Verdict:
    """swebench's verdict on `patch`, from a fresh offline container of the instance image,
    checked against the evidence."""
    script, planted = eval_script(instance, conda=image.pulled), ()
    if runs_pytest(script):
        script, planted = planted_script(script, instance)
    canary = Canary.new(planted)
    with tempfile.TemporaryDirectory(prefix="agentbench-grader-") as scratch:
        sealed = Path(scratch)
        seal(sealed, {**canary.files(), EVAL_PATH: armed_script(script, canary)})
        return graded_instance(sandboxes, image, instance, patch, labels, canary, sealed, runs_pytest(script))


def graded_instance(sandboxes: SandboxFactory, image: InstanceImage, instance: Instance, patch: str,
                    labels: dict[str, str] | None, canary: Canary, sealed: Path, pytest_run: bool) -> Verdict:
    """`grade_instance` once the armed eval script and the plugin are ready in `sealed`."""
    started = time.monotonic()
    with sandboxes.start(image.tag, {"agentbench.role": "grader", **(labels or {})}, network=False, workdir=TESTBED,
                         sealed={SEALED: sealed}) as box:
        if patch.strip():
            box.write_file(PATCH_PATH, patch)
            for command in GIT_APPLY_CMDS:
                applied = box.exec(f"{command} {PATCH_PATH}", timeout=120)
                if applied.exit_code == 0:
                    break
            else:
                return Verdict(False, "patch_failed", applied.exit_code, log_tail(applied.output),
                               time.monotonic() - started)
        box.write_file(canary.results_file, "")
        try:
            run = box.exec(f"bash {EVAL_PATH}", timeout=EVAL_TIMEOUT_S)
        except (ContainerExited, DiskQuotaExceeded) as exc:  # what the patched code did while the tests ran
            return Verdict(False, "failed", None, f"agentbench: {exc}", time.monotonic() - started)
        evidence = read_evidence(read_or_none(box, canary.results_file))
    log, elapsed = run.output, time.monotonic() - started
    if run.timed_out:
        return Verdict(False, "check_timeout", run.exit_code, log, elapsed)
    section, _ = output_section(log, canary)
    if section is None:
        if not patch.strip():
            raise GraderError(f"the eval script of {instance.instance_id} never reached its tests (exit code {run.exit_code}): "
                              f"{log[-1000:]}")
        return Verdict(False, "failed", run.exit_code, f"{log}\nagentbench: the tests never started after this patch", elapsed)
    result = grade_log(instance, swebench_log(section), patch)
    problem = tampering(evidence, canary, result, pytest_run, patch)
    if problem:
        return Verdict(False, "tampered", exit_code_in(log), f"{log}\nagentbench: {problem}", elapsed)
    status = "passed" if result.resolved else "failed"
    counts = TestCounts(result.f2p_passed, result.f2p_failed, result.p2p_passed, result.p2p_failed)
    return Verdict(result.resolved, status, exit_code_in(log), log, elapsed, tests=counts)


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


def verdict_text(verdict: Verdict) -> str:
    """A verdict in a table cell: resolved or not, and the FAIL_TO_PASS / PASS_TO_PASS tests passing."""
    tests = verdict.tests
    counts = "" if tests is None else (f" F2P {tests.f2p_passed}/{tests.f2p_passed + tests.f2p_failed},"
                                       f" P2P {tests.p2p_passed}/{tests.p2p_passed + tests.p2p_failed}")
    return ("resolved" if verdict.solved else f"not resolved ({verdict.status})") + counts


def validate_instance(sandboxes: SandboxFactory, image: InstanceImage, instance: Instance) -> InstanceValidation:
    """Grade the empty and the gold patch of one instance."""
    labels = {"agentbench.role": "validate"}
    return InstanceValidation(instance.instance_id, grade_instance(sandboxes, image, instance, "", labels),
                              grade_instance(sandboxes, image, instance, instance.patch, labels))
