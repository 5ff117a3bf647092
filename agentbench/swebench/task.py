"""A SWE-bench instance as a task an agent attempts: the issue, the testbed, no answers."""

from __future__ import annotations

import hashlib

from agentbench.swebench.instances import Instance
from agentbench.swebench.specs import TESTBED
from agentbench.tasks.model import Limits

PROMPT = """Resolve the issue below in the repository at {testbed}, which is checked out at the
commit the issue was filed against.

<issue>
{problem}
</issue>
{hints}
Change the source code so that the issue is resolved. The tests that check your change are
hidden, and changes to test files are not graded."""
HINTS = "\n<hints>\n{hints}\n</hints>\n"
LIMITS = Limits(steps=50, seconds=1800)


class SwebenchTask:
    """What the agent is shown of an instance: the problem statement (and, on request, the
    hints). Never the test patch, the gold patch or the test lists."""

    kind = "swebench"
    workdir = TESTBED
    network = False
    limits = LIMITS

    def __init__(self, instance: Instance, hints: bool = False):
        self.instance = instance
        self.hints = hints

    @property
    def id(self) -> str:
        return self.instance.instance_id

    @property
    def prompt(self) -> str:
        hints = HINTS.format(hints=self.instance.hints_text.strip()) if self.hints and self.instance.hints_text.strip() else ""
        return PROMPT.format(testbed=TESTBED, problem=self.instance.problem_statement.strip(), hints=hints)

    @property
    def content_hash(self) -> str:
        """A hash of the instance record and whether its hints are shown."""
        return hashlib.sha256(f"{self.instance.model_dump_json()}|hints={self.hints}".encode()).hexdigest()[:16]

    @property
    def solution_patch(self) -> str:
        return self.instance.patch
