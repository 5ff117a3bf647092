"""The Agent contract, how an attempt stops, and what one step records."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Protocol

from langchain_core.messages import AnyMessage

from agentbench.models.calls import Completion
from agentbench.sandbox import Sandbox
from agentbench.spec import Budget

STOP_REASONS = ("submitted", "step_limit", "token_limit", "time_limit", "cost_limit", "context_overflow", "disk_quota",
                "sandbox_killed", "model_timeout", "model_failed",
                "model_error", "sandbox_error", "grader_error")


class AttemptStopped(Exception):
    """Raised to end an attempt; `reason` is one of STOP_REASONS and is stored."""

    def __init__(self, reason: str, detail: str = ""):
        if reason not in STOP_REASONS:
            raise ValueError(f"unknown stop reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


@dataclass
class Step:
    """One model call and the tool calls it made."""

    index: int
    phase: str = "act"
    content: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    model_s: float = 0.0
    tool_s: float = 0.0
    queue_s: float = 0.0
    ttft_s: float | None = None
    retries: list[dict] = field(default_factory=list)
    note: str = ""
    usage_reported: bool = True  # False: the server did not say what the call took (tokens unknown, not zero)
    call_problem: str | None = None  # what was wrong with the reply's tool calls: "" nothing, None no tools offered


OnStep = Callable[[Step], None]


@dataclass(frozen=True)
class ModelAccess:
    """What a scaffold knows of its model: how to call it, its context window, its prices."""

    complete: Callable[[list[AnyMessage], list[dict], float], Completion]  # messages, tools, seconds left -> reply
    context_window: int | None = None
    price: Callable[[int, int, int], float | None] = lambda prompt, completion, cached: 0.0
    endpoint_problem: Callable[[], str | None] = lambda: None  # a plain request to the endpoint: None when it is answered


class Agent(Protocol):
    """Works on a task in a sandbox until it raises AttemptStopped."""

    step_cap: int | None  # the scaffold's own ceiling on model calls, if any

    def run(self, prompt: str, sandbox: Sandbox, model: ModelAccess, budget: Budget, on_step: OnStep) -> None: ...
