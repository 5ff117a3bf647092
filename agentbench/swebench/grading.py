"""Grading a SWE-bench test log with swebench's own code: the repo's log parser and
`get_eval_report`, exactly as the official harness decides "resolved"."""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass

from swebench.harness.grading import get_eval_report
from swebench.harness.test_spec.test_spec import TestSpec

from agentbench.swebench.instances import Instance
from agentbench.swebench.specs import EXIT_CODE_LINE


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
