"""Reports from the store: the JSON document and the terminal table. Numbers come from metrics."""

from __future__ import annotations

import csv
import io
import json

from agentbench.attribution import attribution
from agentbench.books import harness_books
from agentbench.sequential import decision_record
from agentbench.cost import price_text, server_cost_usd
from agentbench.grading import log_tail
from agentbench.metrics import (
    anytime_curve,
    broken_tasks,
    config_summary,
    pareto_frontier,
    server_load,
    wall_by_node,
)
from agentbench.models.profiles import ModelProfile
from agentbench.patch_look import patch_flags
from agentbench.store import AttemptRow, RunRow, ServerRow, ServerSampleRow, StepRow


def attempt_record(row: AttemptRow) -> dict:
    """One attempt as the report's JSON shows it."""
    return {
        "task": row.task, "model": row.model, "agent": row.agent, "epoch": row.epoch, "baseline": row.baseline,
        "solved": row.solved, "status": row.status, "stop_reason": row.stop_reason, "grade_status": row.grade_status,
        "wall_s": round(row.wall_s, 3), "model_s": round(row.model_s, 3), "tool_s": round(row.tool_s, 3),
        "grade_s": round(row.grade_s, 3), "queue_s": round(row.queue_s, 3), "retries": row.retries, "steps": row.steps,
        "prompt_tokens": row.prompt_tokens, "completion_tokens": row.completion_tokens, "cached_tokens": row.cached_tokens,
        "cost_usd": row.cost_usd, "gpu_s": row.gpu_s, "infra_retries": row.infra_retries, "retry_tokens": row.retry_tokens,
        "retry_cost_usd": row.retry_cost_usd, "retry_wall_s": round(row.retry_wall_s, 3),
        "f2p_passed": row.f2p_passed, "f2p_failed": row.f2p_failed, "p2p_passed": row.p2p_passed, "p2p_failed": row.p2p_failed,
        "flags": [flag for flag in row.flags.split(",") if flag],
        "patch_flags": [str(flag) for flag in patch_flags(row.patch)],
        "harness_requests": row.harness_requests, "harness_prompt_tokens": row.harness_prompt_tokens,
        "harness_completion_tokens": row.harness_completion_tokens, "harness_cost_usd": row.harness_cost_usd,
        "unreported_calls": row.unreported_calls, "tool_call_checks": row.tool_call_checks, "valid_tool_calls": row.valid_tool_calls,
        "node": row.node,
    }


def prices_record(run: RunRow) -> dict:
    """Each model's prices as the run used them, with the date they were taken."""
    profiles = {name: ModelProfile.model_validate({**fields, "name": name}) for name, fields in json.loads(run.profiles_json or "{}").items()}
    return {name: {"text": price_text(p), **p.prices.model_dump(exclude_none=True)} for name, p in profiles.items()}


def servers_record(servers: list[tuple[ServerRow, list[ServerSampleRow]]]) -> list[dict]:
    """Each self-hosted server session of the run: who started it, its time, GPUs and cost, and its load."""
    return [{
        "model": row.model, "url": row.url, "started_by_us": row.started_by_us, "command": row.command, "kind": row.kind,
        "vllm_version": row.vllm_version, "gpus": row.gpus, "ready_s": row.ready_s, "uptime_s": row.uptime_s,
        "gpu_s": row.uptime_s * row.gpus,
        "cost_usd": server_cost_usd(row.uptime_s, row.gpus, row.gpu_hour_usd, row.machine_hour_usd),
        "load": server_load([s.model_dump(include={"running", "waiting", "kv_cache_usage", "prefix_hits", "prefix_queries"}) for s in samples]),
    } for row, samples in servers]


def build_report(run: RunRow, rows: list[AttemptRow], servers: list[tuple[ServerRow, list[ServerSampleRow]]] = ()) -> dict:
    """The report document: one entry per (model, agent) configuration, the prices and vLLM
    servers behind them, then every attempt."""
    attempts = [attempt_record(row) for row in rows]
    groups: dict[tuple[str, str], list[dict]] = {}
    for attempt in attempts:
        groups.setdefault((attempt["model"], attempt["agent"]), []).append(attempt)
    configs = [
        {"model": model, "agent": agent, "baseline": group[0]["baseline"], **config_summary(group)}
        for (model, agent), group in groups.items()
    ]
    mark_frontiers(configs)
    for config in configs:
        group = groups[(config["model"], config["agent"])]
        config["anytime"] = {"wall_s": anytime_curve(group, "wall_s"), "cost_usd": anytime_curve(group, "cost_usd")}
    return {
        "run": run.name, "status": run.status, "agentbench_version": run.agentbench_version,
        "created_at": run.created_at.isoformat(), "labels": json.loads(run.labels_json or "{}"), "configs": configs,
        "effects": attribution(attempts),
        "prices": prices_record(run),
        "servers": servers_record(list(servers)),
        "harness": harness_books(json.loads(getattr(run, "harness_json", None) or "[]"), attempts),
        "decision": decision_record(json.loads(getattr(run, "decision_json", None) or "{}"), json.loads(run.spec_json or "{}"), attempts),
        "notes": json.loads(run.notes_json or "[]"),
        "broken_tasks": broken_tasks(attempts),
        "nodes": wall_by_node(attempts),
        "spec": json.loads(run.spec_json or "{}"),
        "lock": json.loads(run.lock_json or "{}"),
        "attempts": attempts,
    }


def config_label(config: dict) -> str:
    return f"{config['model']}/{config['agent']}"


def mark_frontiers(configs: list[dict]) -> None:
    """Mark each configuration's place on the Pareto frontiers of (rate, cost per attempt) and
    (rate, median wall time): `frontier` true/false (null when unknown; false for one that solves
    nothing) and `dominated_by`."""
    for config in configs:
        config["frontier"], config["dominated_by"] = {}, {}
    for axis, cost in (("cost", "cost_per_attempt_usd"), ("time", "wall_s_median")):
        dominated = pareto_frontier({config_label(c): (c["rate"], c[cost]) for c in configs})
        for config in configs:
            label = config_label(config)
            placed = None if label not in dominated else dominated[label] is None
            config["frontier"][axis] = False if config["rate"] == 0 else placed
            config["dominated_by"][axis] = dominated.get(label)


def attempts_csv(report: dict) -> str:
    """One CSV row per attempt, with the JSON report's attempt fields as columns."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(report["attempts"][0]) if report["attempts"] else ["task"])
    writer.writeheader()
    writer.writerows(report["attempts"])
    return buffer.getvalue()


def percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def server_line(server: dict) -> str:
    """One server session in a line: its time (GPU time on GPUs) and how full its batch was kept."""
    load, origin = server["load"], "started by agentbench" if server["started_by_us"] else "already running"
    if server.get("kind") == "llamacpp":
        cost = f", ${server['cost_usd']:.4f}" if server["cost_usd"] is not None else ", unpriced"
        parts = [f"llama.cpp for {server['model']} ({origin}): {server['uptime_s']:.0f} s on the CPU{cost}"]
    else:
        parts = [f"vLLM {server['vllm_version'] or ''} for {server['model']} ({origin}): {server['gpu_s']:.0f} GPU-s on {server['gpus']} GPU(s)"]
    if load["samples"]:
        parts.append(f"running {count(load['running_mean'])} mean / {count(load['running_peak'])} peak, "
                     f"waiting {count(load['waiting_mean'])}, KV cache {percent(load['kv_cache_usage_mean'])}, "
                     f"prefix hits {percent(load['prefix_cache_hit_rate'])} ({load['samples']} samples)")
    return "; ".join(parts)


def count(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def usd(value: float | None) -> str:
    return "n/a" if value is None else f"${value:.4f}"


def cost_per_solved_text(config: dict) -> str:
    """A configuration's cost per solved task, or why it has none: `unknown` (a cost is not
    known) or `unbounded` (nothing solved)."""
    return config.get("cost_per_solved_none") or usd(config["cost_per_solved_usd"])


def trajectory_text(attempt: AttemptRow, steps: list[StepRow], result_chars: int = 2000) -> str:
    """One attempt's trajectory as plain text: every model call, tool call and tool result."""
    model = f"{attempt.model} (baseline)" if attempt.baseline else attempt.model
    cost = "n/a" if attempt.cost_usd is None else f"${attempt.cost_usd:.4f}"
    lines = [
        f"{attempt.task} | {model} | {attempt.agent} | epoch {attempt.epoch}",
        f"{attempt.status} ({attempt.stop_reason}{': ' + attempt.detail if attempt.detail else ''}) | {attempt.steps} steps | "
        f"{attempt.wall_s:.1f} s | {attempt.prompt_tokens}+{attempt.completion_tokens} tokens | {cost}",
    ]
    for step in steps:
        lines += ["", f"--- step {step.index} [{step.phase}] model {step.model_s:.2f} s, tools {step.tool_s:.2f} s, "
                      f"{step.prompt_tokens}+{step.completion_tokens} tokens" + (f" ({step.note})" if step.note else "")]
        timing = ([f"first token {step.ttft_s:.2f} s"] if step.ttft_s is not None else []) + ([f"queued {step.queue_s:.2f} s"] if step.queue_s else [])
        timing += [f"retried after {r['error']} (waited {r['wait_s']:g} s)" for r in step.retries]
        if timing:
            lines.append("model call: " + "; ".join(timing))
        if step.content:
            lines.append(f"assistant: {step.content}")
        results = step.tool_results
        for n, call in enumerate(step.tool_calls):
            lines.append(f"> {call['name']}({_arguments(call['args'])})")
            if n < len(results):
                lines += [f"  | {line}" for line in _clip(results[n], result_chars).splitlines()]
    lines += ["", f"grader: {attempt.grade_status or 'not graded'}"]
    if attempt.f2p_passed is not None:
        lines.append(f"  FAIL_TO_PASS {attempt.f2p_passed}/{attempt.f2p_passed + attempt.f2p_failed} passed, "
                     f"PASS_TO_PASS {attempt.p2p_passed}/{attempt.p2p_passed + attempt.p2p_failed} passed")
    if attempt.flags:
        lines.append(f"  flagged: {attempt.flags.replace(',', ', ')}")
    lines += [f"  patch: {flag}" for flag in patch_flags(attempt.patch)]
    if attempt.check_output:
        lines += [f"  | {line}" for line in log_tail(attempt.check_output, result_chars).splitlines()]
    return "\n".join(lines)


def _arguments(args) -> str:
    if not isinstance(args, dict):
        return _clip(str(args), 200)
    return ", ".join(f"{key}={_clip(repr(value), 200)}" for key, value in args.items())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more characters]"
