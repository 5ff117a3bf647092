"""`deliberate`: plan -> act -> verify -> reflect, looping until verified or out of budget.

The model plans (reproducing the problem first), works with the editing tools, then must
verify its change (run the tests it can see or write its own check) and give a verdict.
A failed verdict sends it to reflect and revise the plan, then back to work.
"""

from __future__ import annotations

from typing import Annotated, TypedDict

from langchain_core.messages import AnyMessage, HumanMessage, SystemMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from agentbench.agents.loop import AgentLoop, wants_tools
from agentbench.agents.tools import BASH, EDIT_TOOLS, SUBMIT, VIEW, function_schema
from agentbench.contracts import AttemptStopped, Budget, ModelAccess, OnStep, Sandbox

SYSTEM_PROMPT = """You are a careful software engineer working in a repository at {workdir}.
You work in phases: plan, act, verify, and, if verification fails, reflect and act again."""
PLAN = """Before changing anything, write a short numbered plan: how you will reproduce the
problem (a command or a small script), which files you expect to change, and how you will
check the result. Do not call tools yet."""
ACT = "Carry out your plan with the tools. Reproduce the problem first. When the change is made, call `submit`."
VERIFY = """Verify your change now: run the tests you can see, or write and run your own check
that exercises the task's requirements, including edge cases. Then call `verdict` with
passed=true only if the evidence shows the task is fully done."""
REFLECT = """Verification failed: {evidence}
Reflect: what went wrong, and what will you do differently? Write a revised numbered plan.
Do not call tools yet."""

VERDICT = function_schema(
    "verdict", "Report whether verification shows the task is done.",
    {"passed": {"type": "boolean", "description": "True only if the checks show the task is fully done."},
     "evidence": {"type": "string", "description": "What you ran and what it showed."}},
    ["passed", "evidence"],
)
ACT_TOOLS = [*EDIT_TOOLS, SUBMIT]
VERIFY_TOOLS = [BASH, VIEW, VERDICT]


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]
    submitted: bool
    verdict: dict | None


class DeliberateAgent:
    """Plan, act, verify, reflect; only a passed verification submits."""

    step_cap = None

    def run(self, prompt: str, sandbox: Sandbox, model: ModelAccess, budget: Budget, on_step: OnStep) -> None:
        nodes = _Nodes(AgentLoop(sandbox, model, budget, on_step))
        graph = StateGraph(State)
        for name in ("plan", "act", "act_tools", "start_verify", "verify", "verify_tools", "reflect"):
            graph.add_node(name, getattr(nodes, name))
        graph.add_edge(START, "plan")
        graph.add_edge("plan", "act")
        graph.add_conditional_edges("act", _last_wants_tools, {True: "act_tools", False: "start_verify"})
        graph.add_conditional_edges("act_tools", lambda s: s["submitted"], {True: "start_verify", False: "act"})
        graph.add_edge("start_verify", "verify")
        graph.add_conditional_edges("verify", _last_wants_tools, {True: "verify_tools", False: "reflect"})
        graph.add_conditional_edges("verify_tools", _after_verify, {"passed": END, "failed": "reflect", "pending": "verify"})
        graph.add_edge("reflect", "act")
        start = {"messages": [SystemMessage(SYSTEM_PROMPT.format(workdir=sandbox.workdir)), HumanMessage(prompt)], "submitted": False, "verdict": None}
        graph.compile().invoke(start, {"recursion_limit": 3 * budget.steps + 10})
        raise AttemptStopped("submitted", "verified")


def _last_wants_tools(state: State) -> bool:
    return wants_tools(state["messages"][-1])


def _after_verify(state: State) -> str:
    if state["verdict"] is None:
        return "pending"
    return "passed" if state["verdict"].get("passed") is True else "failed"


class _Nodes:
    """The graph's nodes; each sets the phase its model calls are recorded under."""

    def __init__(self, loop: AgentLoop):
        self.loop = loop

    def _think(self, phase: str, state: State, instruction: str) -> list[AnyMessage]:
        """A model call with no tools: the instruction and the model's written answer."""
        self.loop.phase = phase
        ask = HumanMessage(instruction)
        return [ask, self.loop.call_model([*state["messages"], ask], [])]

    def plan(self, state: State) -> dict:
        return {"messages": [*self._think("plan", state, PLAN), HumanMessage(ACT)]}

    def act(self, state: State) -> dict:
        self.loop.phase = "act"
        return {"messages": [self.loop.call_model(state["messages"], ACT_TOOLS)]}

    def act_tools(self, state: State) -> dict:
        results, wanted = self.loop.run_tools(state["messages"][-1], ACT_TOOLS, {"submit": "Submitted for verification."})
        return {"messages": results, "submitted": "submit" in wanted}

    def start_verify(self, state: State) -> dict:
        return {"messages": [HumanMessage(VERIFY)], "submitted": False, "verdict": None}

    def verify(self, state: State) -> dict:
        self.loop.phase = "verify"
        return {"messages": [self.loop.call_model(state["messages"], VERIFY_TOOLS)]}

    def verify_tools(self, state: State) -> dict:
        results, wanted = self.loop.run_tools(state["messages"][-1], VERIFY_TOOLS, {"verdict": "Verdict recorded."})
        return {"messages": results, "verdict": wanted.get("verdict")}

    def reflect(self, state: State) -> dict:
        verdict = state["verdict"] or {}
        evidence = verdict.get("evidence") or "no verdict was given."
        return {"messages": [*self._think("reflect", state, REFLECT.format(evidence=evidence)), HumanMessage(ACT)], "verdict": None}
