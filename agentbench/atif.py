"""Attempts as ATIF trajectories (the Agent Trajectory Interchange Format, Harbor's RFC 0001):
one JSON document per attempt with the task's prompt, every model call with its tool calls and
their results, tokens and dollars per step, and the grader's verdict. Pure: rows in, dicts out.

Only the attempt's last try is the trajectory; tries the infrastructure failed before it are
counted in `extra`. Tokens a server did not report are left out (unknown), never written as 0.
"""

from __future__ import annotations

import re
from datetime import datetime, timezone

from agentbench.cost import token_cost_usd
from agentbench.models.profiles import ModelProfile
from agentbench.store import AttemptRow, StepRow

SCHEMA_VERSION = "ATIF-v1.6"  # read by Harbor's models of v1.6 and v1.7 alike


def trajectory(attempt: AttemptRow, steps: list[StepRow], prompt: str | None, profile: ModelProfile | None,
               version: str) -> dict:
    """The ATIF document of one attempt; `prompt` None when the task's prompt is not at hand,
    `profile` None when the run's profile is not (then steps' dollars are shares of the attempt's)."""
    last_try = max((step.try_number for step in steps), default=0)
    kept = [step for step in steps if step.try_number == last_try]
    costs = [step_cost_usd(step, attempt, profile) for step in kept]
    reported = all(step.usage_reported for step in kept)
    totals = {f"total_{name}": sum(getattr(step, name) for step in kept) if reported else None
              for name in ("prompt_tokens", "completion_tokens", "cached_tokens")}
    user = {"step_id": 1, "timestamp": _iso(attempt.started_at), "source": "user",
            "message": prompt if prompt is not None else f"(the prompt of task {attempt.task} was not at hand when this was exported)"}
    document = {
        "schema_version": SCHEMA_VERSION,
        "session_id": attempt.id,
        "agent": _clean({"name": f"agentbench-{attempt.agent}", "version": version,
                         "model_name": (profile.model if profile else None) or attempt.model,
                         "extra": {"profile": attempt.model, "baseline": attempt.baseline}}),
        "steps": [user] + [agent_step(number, step, cost) for number, (step, cost) in enumerate(zip(kept, costs), start=2)],
        "final_metrics": _clean({**totals, "total_cost_usd": None if None in costs else sum(costs),
                                 "total_steps": len(kept) + 1}),
        "extra": verdict_extra(attempt),
    }
    if last_try:
        document["notes"] = (f"The steps of {last_try} earlier tries, ended by infrastructure failures, are left out; "
                             "extra.retry_tokens and extra.retry_cost_usd count them.")
    return document


def agent_step(number: int, step: StepRow, cost: float | None) -> dict:
    """One model call as an ATIF agent step: its reply, tool calls, their results and metrics."""
    calls = [{"tool_call_id": f"call_{step.index}_{n}", "function_name": call.get("name") or "",
              "arguments": call["args"] if isinstance(call.get("args"), dict) else {"raw": call.get("args")}}
             for n, call in enumerate(step.tool_calls)]
    results = [{"source_call_id": call["tool_call_id"], "content": text} for call, text in zip(calls, step.tool_results)]
    tokens = {"prompt_tokens": step.prompt_tokens, "completion_tokens": step.completion_tokens,
              "cached_tokens": step.cached_tokens} if step.usage_reported else {}
    return _clean({
        "step_id": number,
        "timestamp": _iso(step.created_at),
        "source": "agent",
        "message": step.content,
        "tool_calls": calls or None,
        "observation": {"results": results} if results else None,
        "metrics": _clean({**tokens, "cost_usd": cost}) or None,
        "extra": _clean({"phase": step.phase, "model_s": step.model_s, "tool_s": step.tool_s, "queue_s": step.queue_s,
                         "ttft_s": step.ttft_s, "retries": step.retries or None, "note": step.note or None,
                         "call_problem": step.call_problem or None}),
    })


def step_cost_usd(step: StepRow, attempt: AttemptRow, profile: ModelProfile | None) -> float | None:
    """A step's dollars: its tokens at the profile's per-token prices, or, for a model priced by
    its server's time, its share (by tokens) of the attempt's cost; None when unknown."""
    if not step.usage_reported:
        return None
    if profile is not None and token_cost_usd(profile, 0, 0) is not None:
        return token_cost_usd(profile, step.prompt_tokens, step.completion_tokens, step.cached_tokens)
    if not attempt.cost_usd:  # unknown (None) or nothing (0)
        return attempt.cost_usd
    tokens = attempt.prompt_tokens + attempt.completion_tokens
    return attempt.cost_usd * (step.prompt_tokens + step.completion_tokens) / tokens if tokens else None


def verdict_extra(attempt: AttemptRow) -> dict:
    """What the harness decided about the attempt, and what its earlier tries spent."""
    return _clean({
        "run": attempt.run, "task": attempt.task, "epoch": attempt.epoch,
        "verdict": _clean({"solved": attempt.solved, "status": attempt.status, "stop_reason": attempt.stop_reason,
                           "detail": attempt.detail or None, "grade_status": attempt.grade_status,
                           "grader_output": attempt.check_output or None}),
        "wall_s": attempt.wall_s, "cost_usd": attempt.cost_usd,
        "infra_retries": attempt.infra_retries or None, "retry_tokens": attempt.retry_tokens or None,
        "retry_cost_usd": attempt.retry_cost_usd or None,
    })


def file_name(attempt: AttemptRow) -> str:
    """The attempt's trajectory file: task, model, agent and epoch, safe in any folder."""
    name = f"{attempt.task}.{attempt.model}.{attempt.agent}.{attempt.epoch}".replace("/", "__")
    return re.sub(r"[^A-Za-z0-9._-]+", "-", name) + ".json"


def _iso(moment: datetime) -> str:
    """ISO 8601 in UTC (the store may hand back naive UTC times)."""
    return (moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)).isoformat()


def _clean(fields: dict) -> dict:
    """The fields that have a value: ATIF leaves out what is unknown."""
    return {key: value for key, value in fields.items() if value is not None}
