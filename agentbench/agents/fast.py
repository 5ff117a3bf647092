"""`fast`: one tool-calling loop that stops as soon as the model submits or stops calling tools."""

from __future__ import annotations

import time
from typing import Annotated, TypedDict

import openai
from langchain_core.messages import AIMessage, AnyMessage, HumanMessage, SystemMessage, ToolMessage
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from agentbench.agents.base import AttemptStopped, ModelFactory, OnStep, Step
from agentbench.agents.tools import TOOL_SCHEMAS, SandboxTools
from agentbench.sandbox import Sandbox
from agentbench.spec import Budget

SYSTEM_PROMPT = """You are a software engineer working in a repository at /workspace.
Use the tools to inspect files, run commands and edit code until the task is done.
Work directly; do not ask questions. When the task is done, call `submit`."""


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


class FastAgent:
    """A single model -> tools loop with a step budget and a wall-clock limit."""

    def run(self, prompt: str, sandbox: Sandbox, model: ModelFactory, budget: Budget, on_step: OnStep) -> None:
        loop = _Loop(SandboxTools(sandbox, budget.command_timeout_s), model, budget, on_step)
        graph = StateGraph(State)
        graph.add_node("model", loop.call_model)
        graph.add_node("tools", loop.call_tools)
        graph.add_edge(START, "model")
        graph.add_conditional_edges("model", _wants_tools, {True: "tools", False: END})
        graph.add_edge("tools", "model")
        messages = [SystemMessage(SYSTEM_PROMPT), HumanMessage(prompt)]
        graph.compile().invoke({"messages": messages}, {"recursion_limit": 2 * budget.steps + 5})
        raise AttemptStopped("submitted", "the model answered without calling a tool")


def _wants_tools(state: State) -> bool:
    last = state["messages"][-1]
    return bool(last.tool_calls or last.invalid_tool_calls)


class _Loop:
    """The two graph nodes, sharing the attempt's clock and its steps."""

    def __init__(self, tools: SandboxTools, model: ModelFactory, budget: Budget, on_step: OnStep):
        self.tools = tools
        self.model = model
        self.budget = budget
        self.on_step = on_step
        self.deadline = time.monotonic() + budget.seconds
        self.steps: list[Step] = []

    def seconds_left(self) -> float:
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise AttemptStopped("time_limit", f"{self.budget.seconds:g} s")
        return left

    def call_model(self, state: State) -> dict:
        if len(self.steps) >= self.budget.steps:
            raise AttemptStopped("step_limit", f"{self.budget.steps} model calls")
        llm = self.model(self.seconds_left()).bind_tools(TOOL_SCHEMAS)
        started = time.monotonic()
        try:
            reply: AIMessage = llm.invoke(state["messages"])
        except openai.APITimeoutError as exc:
            self.seconds_left()
            raise AttemptStopped("model_error", f"model call timed out: {exc}") from exc
        except openai.OpenAIError as exc:
            raise AttemptStopped("model_error", f"{exc.__class__.__name__}: {exc}") from exc
        step = _step_from(reply, len(self.steps), time.monotonic() - started)
        self.steps.append(step)
        if not _wants_tools({"messages": [reply]}):
            self.on_step(step)
        return {"messages": [reply]}

    def call_tools(self, state: State) -> dict:
        reply: AIMessage = state["messages"][-1]
        step = self.steps[-1]
        results: list[ToolMessage] = []
        started = time.monotonic()
        try:
            for call in [*reply.tool_calls, *reply.invalid_tool_calls]:
                output = self.tools.call(call["name"] or "", call["args"] or {}, self.seconds_left())
                results.append(ToolMessage(output, tool_call_id=call["id"]))
        finally:
            step.tool_results = [message.content for message in results]
            step.tool_s = time.monotonic() - started
            self.on_step(step)
        return {"messages": results}


def _step_from(reply: AIMessage, index: int, model_s: float) -> Step:
    usage = reply.usage_metadata or {}
    calls = [{"name": c["name"], "args": c["args"]} for c in reply.tool_calls]
    calls += [{"name": c["name"], "args": c["args"], "error": c.get("error")} for c in reply.invalid_tool_calls]
    return Step(
        index=index,
        content=reply.content if isinstance(reply.content, str) else str(reply.content),
        tool_calls=calls,
        prompt_tokens=usage.get("input_tokens", 0),
        completion_tokens=usage.get("output_tokens", 0),
        cached_tokens=(usage.get("input_token_details") or {}).get("cache_read", 0),
        model_s=model_s,
    )
