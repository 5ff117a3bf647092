"""The mechanics every scaffold shares: call the model within budget and context, run its tools, record steps."""

from __future__ import annotations

import json
import time
from typing import Annotated, TypedDict

from langchain_core.messages import (
    AIMessage,
    AnyMessage,
    HumanMessage,
    SystemMessage,
    ToolMessage,
)
from langgraph.graph import END, START, StateGraph
from langgraph.graph.message import add_messages

from agentbench.agents.budget import BudgetMeter
from agentbench.agents.tools import SandboxTools, parse_arguments, tool_name
from agentbench.contracts import (
    AttemptStopped,
    Budget,
    ModelAccess,
    OnStep,
    Sandbox,
    Step,
)
from agentbench.models.calls import Completion, ModelCallFailed

ELIDED = "[tool output elided to fit the context window]"
KEEP_RECENT = 6  # the newest messages are never elided
CONTEXT_SHARE = 0.75  # of the window, the rest left for the reply
CHARS_PER_TOKEN = 3  # a deliberately pessimistic estimate


def estimate_tokens(messages: list[AnyMessage]) -> int:
    """A deterministic, pessimistic token estimate of a conversation."""
    chars = 0
    for message in messages:
        chars += len(message.content if isinstance(message.content, str) else json.dumps(message.content)) + 16
        chars += sum(len(json.dumps(call.get("args"))) + len(call.get("name") or "") for call in getattr(message, "tool_calls", []))
    return chars // CHARS_PER_TOKEN


def fit_context(messages: list[AnyMessage], window: int | None) -> tuple[list[AnyMessage], int]:
    """The messages to send, with the oldest tool outputs elided until they fit; how many were."""
    if not window:
        return messages, 0
    limit = int(window * CONTEXT_SHARE)
    fitted, elided = list(messages), 0
    for index, message in enumerate(fitted[: -KEEP_RECENT or None]):
        if estimate_tokens(fitted) <= limit:
            break
        if isinstance(message, ToolMessage) and message.content != ELIDED:
            fitted[index] = message.model_copy(update={"content": ELIDED})
            elided += 1
    size = estimate_tokens(fitted)
    if size > limit:
        raise AttemptStopped("context_overflow", f"about {size} tokens of history do not fit {limit} of a {window}-token window")
    return fitted, elided


def wants_tools(reply: AIMessage) -> bool:
    return bool(reply.tool_calls or reply.invalid_tool_calls)


def call_problem(reply: AIMessage, tools: list[dict], answer_ends: bool) -> str | None:
    """What is wrong with a reply's tool calls, "" when nothing is (a plain answer is fine
    where an answer is allowed); None when the call offered no tools."""
    if not tools:
        return None
    if (reply.response_metadata or {}).get("finish_reason") == "length":
        return "cut at max_tokens"
    if reply.invalid_tool_calls:
        return "tool arguments are not a JSON object"
    schemas = {tool_name(schema): schema for schema in tools}
    for call in reply.tool_calls:
        schema = schemas.get(call["name"])
        if schema is None:
            return f"unknown tool {call['name']!r}"
        missing = [key for key in schema["function"]["parameters"].get("required", []) if key not in call["args"]]
        if missing:
            return f"{call['name']} without {', '.join(missing)}"
    if not reply.tool_calls and not (reply.content or "").strip():
        return "empty reply"
    return "" if reply.tool_calls or answer_ends else "no tool call"


def format_feedback(reply: AIMessage, problem: str) -> str:
    """What a scaffold that expects a tool call says to a reply without one."""
    if problem == "cut at max_tokens":
        return "Your reply was cut off at the output limit. Reply more briefly, with one tool call."
    text = reply.content if isinstance(reply.content, str) else json.dumps(reply.content)
    if "{" in text and ("tool_call" in text or '"name"' in text):
        return "You wrote a tool call as text. Call tools through the tool-calling interface; call `submit` when the task is done."
    return "Your reply called no tool. Use the tools to work on the task; call `submit` when the task is done."


class AgentLoop:
    """One attempt's model calls and tool runs; `phase` labels the steps it records."""

    def __init__(self, sandbox: Sandbox, model: ModelAccess, budget: Budget, on_step: OnStep):
        self.tools = SandboxTools(sandbox, budget.command_timeout_s)
        self.meter = BudgetMeter(budget, model.price)
        self.model = model
        self.on_step = on_step
        self.steps: list[Step] = []
        self.phase = "act"

    def call_model(self, messages: list[AnyMessage], tools: list[dict], answer_ends: bool = True) -> AIMessage:
        """One model call within the budget and the context window; the step is recorded, with
        what was wrong with its tool calls (a plain answer is wrong unless `answer_ends`)."""
        seconds = self.meter.before_call()
        view, elided = fit_context(messages, self.model.context_window)
        try:
            completion = self.model.complete(view, tools, seconds)
        except ModelCallFailed as failure:
            if failure.context_exceeded:
                raise AttemptStopped("context_overflow", failure.detail) from failure
            if failure.timed_out:
                self.meter.seconds_left()
                raise AttemptStopped("model_timeout", failure.detail) from failure
            raise AttemptStopped("model_error", failure.detail) from failure
        reply = completion.message
        step = _step_from(completion, len(self.steps), self.phase)
        step.call_problem = call_problem(reply, tools, answer_ends)
        if elided:
            step.note = "; ".join(filter(None, [step.note, f"elided {elided} old tool outputs to fit the context window"]))
        self.steps.append(step)
        self.meter.charge(step)
        if not wants_tools(reply):
            self.on_step(step)
        return reply

    def run_tools(self, reply: AIMessage, offered: list[dict], control: dict[str, str]) -> tuple[list[ToolMessage], dict[str, dict]]:
        """Run the reply's tool calls; calls to `control` tools (name -> acknowledgement) are
        returned for the scaffold to act on instead of being run."""
        names = [tool_name(t) for t in offered]
        step, results, wanted = self.steps[-1], [], {}
        started = time.monotonic()
        try:
            for call in [*reply.tool_calls, *reply.invalid_tool_calls]:
                name = call["name"] or ""
                arguments = parse_arguments(name, call["args"] or {})
                if isinstance(arguments, str):
                    output = arguments
                elif name in control and name in names:
                    wanted[name], output = arguments, control[name]
                else:
                    output = self.tools.call(name, arguments, names, self.meter.seconds_left())
                results.append(ToolMessage(output, tool_call_id=call["id"]))
        finally:
            step.tool_results = [message.content for message in results]
            step.tool_s = time.monotonic() - started
            self.on_step(step)
        return results, wanted


def _step_from(completion: Completion, index: int, phase: str) -> Step:
    reply = completion.message
    usage = (reply.usage_metadata or {}) if completion.usage_problem is None else {}  # counts that cannot be true are not counted
    calls = [{"name": c["name"], "args": c["args"]} for c in reply.tool_calls]
    calls += [{"name": c["name"], "args": c["args"], "error": c.get("error")} for c in reply.invalid_tool_calls]
    return Step(
        index=index,
        phase=phase,
        content=reply.content if isinstance(reply.content, str) else json.dumps(reply.content),
        tool_calls=calls,
        prompt_tokens=usage.get("input_tokens", 0),
        completion_tokens=usage.get("output_tokens", 0),
        cached_tokens=(usage.get("input_token_details") or {}).get("cache_read", 0),
        model_s=completion.model_s,
        queue_s=completion.queue_s,
        ttft_s=completion.ttft_s,
        retries=completion.retries,
        usage_reported=completion.usage_reported,
        note=f"token counts set aside as unknown: {completion.usage_problem}" if completion.usage_problem else "",
    )


class State(TypedDict):
    messages: Annotated[list[AnyMessage], add_messages]


def run_tool_loop(loop: AgentLoop, system_prompt: str, prompt: str, tools: list[dict], recursion_limit: int,
                  answer_ends: bool) -> None:
    """A model -> tools graph that ends when the model submits or, where `answer_ends`, answers
    without a tool call; otherwise such a reply gets a format error back and the loop goes on."""
    control = {"submit": "Submitted."} if "submit" in [tool_name(t) for t in tools] else {}

    def model(state: State) -> dict:
        return {"messages": [loop.call_model(state["messages"], tools, answer_ends)]}

    def feedback(state: State) -> dict:
        return {"messages": [HumanMessage(format_feedback(state["messages"][-1], loop.steps[-1].call_problem))]}

    def after_model(state: State) -> str:
        if wants_tools(state["messages"][-1]):
            return "tools"
        return "end" if answer_ends else "feedback"

    def run_tools(state: State) -> dict:
        results, wanted = loop.run_tools(state["messages"][-1], tools, control)
        if "submit" in wanted:
            raise AttemptStopped("submitted")
        return {"messages": results}

    graph = StateGraph(State)
    graph.add_node("model", model)
    graph.add_node("tools", run_tools)
    graph.add_node("feedback", feedback)
    graph.add_edge(START, "model")
    graph.add_conditional_edges("model", after_model, {"tools": "tools", "feedback": "feedback", "end": END})
    graph.add_edge("tools", "model")
    graph.add_edge("feedback", "model")
    messages = [SystemMessage(system_prompt), HumanMessage(prompt)]
    graph.compile().invoke({"messages": messages}, {"recursion_limit": recursion_limit})
    raise AttemptStopped("submitted", "the model answered without calling a tool")
