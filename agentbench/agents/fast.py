"""`fast`: one tool-calling loop on a low step budget that submits as soon as the work looks plausible."""

from __future__ import annotations

from agentbench.agents.loop import AgentLoop, run_tool_loop
from agentbench.agents.tools import EDIT_TOOLS, SUBMIT
from agentbench.contracts import Budget, ModelAccess, OnStep, Sandbox

SYSTEM_PROMPT = """You are a software engineer working in a repository at {workdir}.
Use the tools to inspect files, run commands and edit code until the task is done.
Work directly and briefly; do not ask questions. As soon as the change is made, call `submit`."""


class FastAgent:
    """Single loop; at most 15 model calls whatever the task allows. A reply without a tool call
    gets a format error back (it does not end the attempt); `submit` ends it."""

    step_cap = 15

    def run(self, prompt: str, sandbox: Sandbox, model: ModelAccess, budget: Budget, on_step: OnStep) -> None:
        loop = AgentLoop(sandbox, model, budget, on_step)
        run_tool_loop(loop, SYSTEM_PROMPT.format(workdir=sandbox.workdir), prompt, [*EDIT_TOOLS, SUBMIT],
                      2 * budget.steps + 5, answer_ends=False)
