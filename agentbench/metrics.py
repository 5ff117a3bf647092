"""Pure functions that turn stored attempts into the numbers reports print."""

from __future__ import annotations

from statistics import median as _median
from typing import Iterable, Sequence

from agentbench.intervals import quantile, task_bootstrap_interval
from agentbench.rates import (
    errors_on_few_tasks,
    interval_over_tasks,
    mean_over_tasks,
    pass_at_k,
    pass_hat_k,
    per_task,
    per_task_with_errors,
    rate_with_interval,
    solve_rate,
)


def median(values: Iterable[float]) -> float | None:
    values = list(values)
    return _median(values) if values else None


def total_cost(costs: Iterable[float | None]) -> float | None:
    """The sum of attempt costs; None when any is unknown (never a silent zero)."""
    costs = list(costs)
    if any(cost is None for cost in costs):
        return None
    return sum(costs)


def per_solved(total: float | None, solved: int) -> float | None:
    """A total divided over the solved tasks; None when none was solved or the total is unknown."""
    if total is None or solved == 0:
        return None
    return total / solved


def why_none(cost: float | None, solved: int) -> str | None:
    """Why a cost per solved task has no value: `unknown` (some attempt's cost is) comes before
    `unbounded` (nothing was solved, so each solve costs more than any sum); None when it has one."""
    if cost is None:
        return "unknown"
    return "unbounded" if solved == 0 else None


def errors_by_kind(attempts: list[dict]) -> dict[str, int]:
    """Failures of the harness or the endpoint (never counted against the agent), by stop reason."""
    kinds: dict[str, int] = {}
    for attempt in attempts:
        if attempt["status"] == "error":
            kinds[attempt["stop_reason"]] = kinds.get(attempt["stop_reason"], 0) + 1
    return dict(sorted(kinds.items()))


def broken_tasks(attempts: Sequence[dict]) -> dict[str, str]:
    """Tasks whose own grading is broken, with why: the grader found the check unable to start,
    or the `oracle` baseline (the task's reference solution) did not solve it."""
    broken: dict[str, str] = {}
    for a in attempts:
        if a.get("grade_status") == "broken":
            broken[a["task"]] = "its check cannot start"
        elif a["model"] == "oracle" and a["baseline"] and a["status"] != "error" and not a["solved"]:
            broken.setdefault(a["task"], f"the oracle's reference solution was graded {a['grade_status'] or a['status']}")
    return dict(sorted(broken.items()))


def config_summary(attempts: Sequence[dict]) -> dict:
    """Rate, interval, time, tokens and cost for the attempts of one configuration.

    Attempts whose status is `error` (the harness or the endpoint failed, not the agent) are
    counted apart and left out of the rate; `tampered` ones count as unsolved and are counted
    too. The rate is solve_rate. pass@k and pass^k are given for every k up to the most graded
    epochs a task has, when that is more than one, each over the tasks with at least k (how many
    in `pass_k_tasks`).
    """
    graded = [a for a in attempts if a["status"] != "error"]
    solved = sum(1 for a in graded if a["solved"])
    counts = per_task(attempts)
    solve, interval = rate_with_interval(counts)
    prompt = sum(a["prompt_tokens"] for a in attempts)
    completion = sum(a["completion_tokens"] for a in attempts)
    cost = total_cost(a["cost_usd"] for a in attempts)
    walls = [a["wall_s"] for a in graded]
    epochs = max((n for n, _ in counts.values()), default=0)
    ks = range(1, epochs + 1) if epochs > 1 else range(0)
    return {
        "attempts": len(attempts),
        "errors": len(attempts) - len(graded),
        "errors_by_kind": errors_by_kind(attempts),
        "tampered": sum(1 for a in attempts if a["status"] == "tampered"),
        "retry_tokens": sum(a.get("retry_tokens", 0) for a in attempts),
        "retry_cost_usd": total_cost(a.get("retry_cost_usd", 0.0) for a in attempts),
        "solved": solved,
        "graded": len(graded),
        "rate": solve,
        "ci95": [round(end, 4) for end in interval],
        "rate_with_errors": solve_rate(per_task_with_errors(attempts)),  # errors counted as failures
        "errors_on_few_tasks": errors_on_few_tasks(attempts),
        "wall_s_median": median(walls),
        "wall_s_p90": quantile(walls, 0.9),
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "tokens_per_solved": per_solved(prompt + completion, solved),
        "tokens_per_solved_ci95": per_solved_interval(attempts, tokens_per_solved_of),
        "wall_s_per_solved": wall_per_solved_of(attempts),
        "wall_s_per_solved_ci95": per_solved_interval(attempts, wall_per_solved_of),
        "retries": sum(a["retries"] for a in attempts),
        "unreported_calls": sum(a.get("unreported_calls", 0) for a in attempts),
        "valid_tool_call_share": valid_tool_call_share(attempts),
        "gpu_s": total_cost(a["gpu_s"] for a in attempts),
        "gpu_s_per_solved": gpu_seconds_per_solved_of(attempts),
        "gpu_s_per_solved_ci95": (None if all(a["gpu_s"] is None for a in attempts)  # API models: no resampling
                                  else per_solved_interval(attempts, gpu_seconds_per_solved_of)),
        "cost_usd": cost,
        "cost_per_attempt_usd": None if cost is None or not attempts else cost / len(attempts),
        "cost_per_solved_usd": per_solved(cost, solved),
        "cost_per_solved_ci95": None if cost is None else per_solved_interval(attempts, cost_per_solved_of),
        "cost_per_solved_none": why_none(cost, solved),
        "output_tokens_per_s": output_tokens_per_second(attempts),
        "time_breakdown": time_breakdown(attempts),
        "pass_at_k": {str(k): mean_over_tasks(counts, pass_at_k, k) for k in ks},
        "pass_at_k_ci95": {str(k): interval_over_tasks(counts, pass_at_k, k) for k in ks},
        "pass_hat_k": {str(k): mean_over_tasks(counts, pass_hat_k, k) for k in ks},
        "pass_hat_k_ci95": {str(k): interval_over_tasks(counts, pass_hat_k, k) for k in ks},
        "pass_k_tasks": {str(k): sum(1 for n, _ in counts.values() if n >= k) for k in ks},
    }


def valid_tool_call_share(attempts: Sequence[dict]) -> float | None:
    """Of the model calls that offered tools, the share whose replies' tool calls were all
    valid (parsed, known, complete; a plain answer only where the scaffold allows one); None
    when no call offered tools."""
    checks = sum(a.get("tool_call_checks", 0) for a in attempts)
    return None if checks == 0 else sum(a.get("valid_tool_calls", 0) for a in attempts) / checks


def pareto_frontier(points: dict[str, tuple[float | None, float | None]]) -> dict[str, str | None]:
    """For named (rate, cost) points, higher rate and lower cost being better: each point's
    dominating point, or None for the points on the frontier. Points with an unknown rate
    or cost, or a rate of 0 (solving nothing is never a trade-off worth making), take no part
    and are left out of the result."""
    known = {name: p for name, p in points.items() if p[0] and p[1] is not None}
    result: dict[str, str | None] = {}
    for name, (rate_a, cost_a) in known.items():
        result[name] = next(
            (other for other, (rate_b, cost_b) in sorted(known.items())
             if other != name and rate_b >= rate_a and cost_b <= cost_a and (rate_b > rate_a or cost_b < cost_a)),
            None,
        )
    return result


def per_solved_interval(attempts: Sequence[dict], statistic) -> list | None:
    """A per-solved ratio's interval, resampling tasks; its upper end None (unbounded) when too
    many resamples hold no solve."""
    interval = task_bootstrap_interval(list(attempts), statistic, unbounded_when_none=True)
    return None if interval is None else list(interval)


def cost_per_solved_of(attempts: Sequence[dict]) -> float | None:
    """Total cost over solved attempts, for a sample of attempts."""
    return per_solved(total_cost(a["cost_usd"] for a in attempts), sum(1 for a in attempts if a["solved"]))


def tokens_per_solved_of(attempts: Sequence[dict]) -> float | None:
    """Total tokens over solved attempts, for a sample of attempts."""
    tokens = sum(a["prompt_tokens"] + a["completion_tokens"] for a in attempts)
    return per_solved(tokens, sum(1 for a in attempts if a["solved"]))


def wall_per_solved_of(attempts: Sequence[dict]) -> float | None:
    """Total agent wall time over solved attempts, for a sample of attempts."""
    return per_solved(sum(a["wall_s"] for a in attempts), sum(1 for a in attempts if a["solved"]))


def anytime_curve(attempts: Sequence[dict], key: str) -> list[tuple[float, float]]:
    """The rate (solve_rate) reached within a budget of `key` (wall_s, cost_usd, ...), as the
    budget grows: one (budget, rate) point at each solved attempt's spend, each solve weighing
    1 / (tasks x that task's graded epochs), so the curve ends at the rate."""
    counts = per_task(attempts)
    solves = sorted((a[key], 1 / (len(counts) * counts[a["task"]][0]))
                    for a in attempts if a["status"] != "error" and a["solved"] and a[key] is not None)
    points, reached = [], 0.0
    for spend, weight in solves:
        reached += weight
        points.append((spend, reached))
    return points


def gpu_seconds_per_solved_of(attempts: Sequence[dict]) -> float | None:
    """Self-hosted GPU-seconds over the solved attempts; None for API models or none solved."""
    return per_solved(total_cost(a["gpu_s"] for a in attempts), sum(1 for a in attempts if a["solved"]))


def server_load(samples: Sequence[dict]) -> dict:
    """Whether a server's batch was kept full: mean and peak running requests, mean waiting
    requests and KV-cache use over the samples, and the prefix-cache hit rate between the
    first and the last sample (its counters only grow)."""

    def mean(key: str) -> float | None:
        values = [s[key] for s in samples if s[key] is not None]
        return sum(values) / len(values) if values else None

    counted = [s for s in samples if s["prefix_hits"] is not None and s["prefix_queries"] is not None]
    queries = counted[-1]["prefix_queries"] - counted[0]["prefix_queries"] if counted else 0
    hits = counted[-1]["prefix_hits"] - counted[0]["prefix_hits"] if counted else 0
    running = [s["running"] for s in samples if s["running"] is not None]
    return {
        "samples": len(samples),
        "running_mean": mean("running"),
        "running_peak": max(running) if running else None,
        "waiting_mean": mean("waiting"),
        "kv_cache_usage_mean": mean("kv_cache_usage"),
        "prefix_cache_hit_rate": hits / queries if queries > 0 else None,
    }


def output_tokens_per_second(attempts: Sequence[dict]) -> float | None:
    """Completion tokens over the seconds spent waiting on the model."""
    seconds = sum(a["model_s"] for a in attempts)
    return sum(a["completion_tokens"] for a in attempts) / seconds if seconds > 0 else None


def time_breakdown(attempts: Sequence[dict]) -> dict[str, float]:
    """Total seconds spent waiting on the model, queued for a connection to its endpoint,
    running tools, grading, and in the harness (the rest of the agent's wall time:
    containers, workspace set-up, diffing)."""
    model = sum(a["model_s"] for a in attempts)
    queue = sum(a["queue_s"] for a in attempts)
    tools = sum(a["tool_s"] for a in attempts)
    wall = sum(a["wall_s"] for a in attempts)
    return {"model_s": model, "queue_s": queue, "tools_s": tools, "grading_s": sum(a["grade_s"] for a in attempts),
            "harness_s": max(0.0, wall - model - queue - tools)}


def wall_by_node(attempts: Sequence[dict]) -> dict[str, dict]:
    """Per node that ran attempts (their last tries): how many, how many solved, their wall
    seconds and that time's share of all attempts' wall seconds."""
    total = sum(a["wall_s"] for a in attempts)
    nodes: dict[str, dict] = {}
    for a in attempts:
        node = nodes.setdefault(a.get("node") or "unknown", {"attempts": 0, "solved": 0, "wall_s": 0.0})
        node["attempts"] += 1
        node["solved"] += bool(a["solved"])
        node["wall_s"] += a["wall_s"]
    for node in nodes.values():
        node["wall_share"] = node["wall_s"] / total if total else None
    return dict(sorted(nodes.items()))
