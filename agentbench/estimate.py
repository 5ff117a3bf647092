"""Forecasts from earlier runs: what an attempt of a (task, model, agent) is expected to take in
tokens, seconds and dollars, and what a whole run would, before anything is spent."""

from __future__ import annotations

from dataclasses import dataclass

from agentbench.cost import expected_cost_usd, server_cost_usd
from agentbench.models.profiles import ModelProfile
from agentbench.store import AttemptRow

INFRA_STATUS = "error"  # attempts cut short by infrastructure say little about what one costs


@dataclass(frozen=True)
class Expected:
    """Mean tokens and seconds of the past attempts an expectation rests on."""

    prompt_tokens: float
    completion_tokens: float
    cached_tokens: float
    wall_s: float
    basis: int  # how many past attempts
    same_task: bool  # whether they were of the same task


def _mean(rows: list[AttemptRow]) -> Expected:
    count = len(rows)
    return Expected(sum(r.prompt_tokens for r in rows) / count, sum(r.completion_tokens for r in rows) / count,
                    sum(r.cached_tokens for r in rows) / count, sum(r.wall_s for r in rows) / count, count, False)


class History:
    """Past attempts by (task, model, agent) and by (model, agent); infrastructure errors left out."""

    def __init__(self, rows: list[AttemptRow]):
        self.by_task: dict[tuple[str, str, str], list[AttemptRow]] = {}
        self.by_config: dict[tuple[str, str], list[AttemptRow]] = {}
        for row in rows:
            self.add(row)

    def add(self, row: AttemptRow) -> None:
        if row.status != INFRA_STATUS:
            self.by_task.setdefault((row.task, row.model, row.agent), []).append(row)
            self.by_config.setdefault((row.model, row.agent), []).append(row)

    def expected(self, task: str, model: str, agent: str) -> Expected | None:
        """The same task's past attempts where there are some, else the configuration's; None without either."""
        if rows := self.by_task.get((task, model, agent)):
            mean = _mean(rows)
            return Expected(**{**vars(mean), "same_task": True})
        if rows := self.by_config.get((model, agent)):
            return _mean(rows)
        return None


def forecast(cells: list[tuple[str, str, str]], history: History, profiles: dict[str, ModelProfile], workers: int,
             dollars_per_attempt: float | None = None) -> dict:
    """Tokens, dollars and hours for attempts (task, model, agent), per configuration and in all.

    Hours assume `workers` attempts at once. Self-hosted models cost their GPUs (vLLM) or their
    machine (llama.cpp) for the whole run; API models their tokens at today's prices. Attempts
    without history are counted as unknown, never as free, so totals with any are lower bounds
    (`complete` false). A per-attempt dollar budget gives an upper bound (`cost_bound_usd`)."""
    configs: dict[tuple[str, str], dict] = {}
    for task, model, agent in cells:
        config = configs.setdefault((model, agent), {"model": model, "agent": agent, "attempts": 0, "unknown": 0, "basis": 0,
                                                     "prompt_tokens": 0.0, "completion_tokens": 0.0, "attempt_s": 0.0,
                                                     "cost_usd": 0.0})
        expected = history.expected(task, model, agent)
        config["attempts"] += 1
        if expected is None:
            config["unknown"] += 1
            continue
        config["prompt_tokens"] += expected.prompt_tokens
        config["completion_tokens"] += expected.completion_tokens
        config["attempt_s"] += expected.wall_s
        cost = expected_cost_usd(profiles[model], expected)
        config["cost_usd"] = None if cost is None or config["cost_usd"] is None else config["cost_usd"] + cost
    wall_hours = sum(c["attempt_s"] for c in configs.values()) / workers / 3600
    for config in configs.values():
        config["basis"] = len(history.by_config.get((config["model"], config["agent"]), []))
        profile = profiles[config["model"]]
        if profile.prices.gpu_hour is not None and profile.gpus or profile.prices.machine_hour is not None and not profile.gpus:
            config["cost_usd"] = server_cost_usd(wall_hours * 3600, profile.gpus or 0, profile.prices.gpu_hour,
                                                 profile.prices.machine_hour)
    costs = [c["cost_usd"] for c in configs.values()]
    return {
        "configs": list(configs.values()),
        "attempts": len(cells),
        "unknown": sum(c["unknown"] for c in configs.values()),
        "tokens": round(sum(c["prompt_tokens"] + c["completion_tokens"] for c in configs.values())),
        "cost_usd": None if any(cost is None for cost in costs) else sum(costs),
        "complete": not any(c["unknown"] for c in configs.values()),
        "cost_bound_usd": None if dollars_per_attempt is None else dollars_per_attempt * len(cells),
        "wall_hours": wall_hours,
        "workers": workers,
    }
