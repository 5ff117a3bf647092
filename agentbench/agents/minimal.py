"""`minimal`: bash only, one loop, mini-swe-agent style; the attempt ends with the model's final answer."""

from __future__ import annotations

from agentbench.agents.loop import AgentLoop, run_tool_loop
from agentbench.agents.tools import BASH
from agentbench.contracts import Budget, ModelAccess, OnStep, Sandbox

SYSTEM_PROMPT = """You are a software engineer working in a repository at {workdir}.
You have one tool, `bash`: each call runs one command in a fresh shell in {workdir}.
Inspect, edit (sed, cat <<'EOF' > file, python) and test with it, one command per call.
When the task is done, reply with a short summary and no tool call; that ends your turn."""


class MinimalAgent:
    """The simplest strong baseline: a bash tool and a loop."""

    step_cap = None

    def run(self, prompt: str, sandbox: Sandbox, model: ModelAccess, budget: Budget, on_step: OnStep) -> None:
        loop = AgentLoop(sandbox, model, budget, on_step)
        run_tool_loop(loop, SYSTEM_PROMPT.format(workdir=sandbox.workdir), prompt, [BASH], 2 * budget.steps + 5, answer_ends=True)
