"""What agentbench uses of swebench's own code, imported once and quietly: importing swebench
configures the root logger at INFO (basicConfig in its collect modules), which would print every
HTTP request of a run, so the root logger is put back as it was."""

import logging

_root = logging.getLogger()
_handlers, _level = list(_root.handlers), _root.level

from swebench.harness.constants import (  # noqa: E402
    APPLY_PATCH_FAIL,
    END_TEST_OUTPUT,
    MAP_REPO_TO_REQS_PATHS,
    MAP_REPO_VERSION_TO_SPECS,
    RESET_FAILED,
    START_TEST_OUTPUT,
    TESTS_ERROR,
    TESTS_TIMEOUT,
)
from swebench.harness.grading import get_eval_report  # noqa: E402
from swebench.harness.run_evaluation import GIT_APPLY_CMDS  # noqa: E402
from swebench.harness.test_spec.python import (  # noqa: E402
    clean_requirements,
    make_eval_script_list_py,
)
from swebench.harness.test_spec.test_spec import TestSpec  # noqa: E402

_root.handlers[:], _root.level = _handlers, _level

__all__ = ["APPLY_PATCH_FAIL", "END_TEST_OUTPUT", "GIT_APPLY_CMDS", "MAP_REPO_TO_REQS_PATHS", "MAP_REPO_VERSION_TO_SPECS",
           "RESET_FAILED", "START_TEST_OUTPUT", "TESTS_ERROR", "TESTS_TIMEOUT", "TestSpec", "clean_requirements",
           "get_eval_report", "make_eval_script_list_py"]
