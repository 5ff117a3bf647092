"""Reports from the store: the JSON document and the terminal table. Numbers come from metrics."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from agentbench.metrics import config_summary
from agentbench.store import AttemptRow, RunRow, StepRow


def attempt_record(row: AttemptRow) -> dict:
    """One attempt as the report's JSON shows it."""
    return {
        "task": row.task, "model": row.model, "agent": row.agent, "epoch": row.epoch, "baseline": row.baseline,
        "solved": row.solved, "status": row.status, "stop_reason": row.stop_reason, "grade_status": row.grade_status,
        "wall_s": round(row.wall_s, 3), "model_s": round(row.model_s, 3), "tool_s": round(row.tool_s, 3),
        "grade_s": round(row.grade_s, 3), "steps": row.steps, "prompt_tokens": row.prompt_tokens,
        "completion_tokens": row.completion_tokens, "cached_tokens": row.cached_tokens, "cost_usd": row.cost_usd,
    }


def build_report(run: RunRow, rows: list[AttemptRow]) -> dict:
    """The report document: one entry per (model, agent) configuration, then every attempt."""
    attempts = [attempt_record(row) for row in rows]
    groups: dict[tuple[str, str], list[dict]] = {}
    for attempt in attempts:
        groups.setdefault((attempt["model"], attempt["agent"]), []).append(attempt)
    configs = [
        {"model": model, "agent": agent, "baseline": group[0]["baseline"], **config_summary(group)}
        for (model, agent), group in groups.items()
    ]
    return {
        "run": run.name, "status": run.status, "agentbench_version": run.agentbench_version,
        "created_at": run.created_at.isoformat(), "configs": configs, "attempts": attempts,
    }


def render_table(report: dict, console: Console) -> None:
    """The per-configuration table a person reads at the end of a run."""
    table = Table(title=f"run {report['run']} ({report['status']})")
    for column in ("model", "agent", "solved", "rate [95% CI]", "errors", "median wall", "tokens", "cost", "cost/solved"):
        table.add_column(column, justify="left" if column in ("model", "agent") else "right")
    for c in report["configs"]:
        model = f"{c['model']} (baseline)" if c["baseline"] else c["model"]
        graded = c["attempts"] - c["errors"]
        table.add_row(
            model, c["agent"], f"{c['solved']}/{graded}", _rate(c), str(c["errors"]), _seconds(c["wall_s_median"]),
            f"{c['prompt_tokens'] + c['completion_tokens']:,}", _usd(c["cost_usd"]), _usd(c["cost_per_solved_usd"]),
        )
    console.print(table)


def _rate(config: dict) -> str:
    if config["rate"] is None:
        return "-"
    low, high = config["ci95"]
    return f"{config['rate']:.0%} [{low:.0%}, {high:.0%}]"


def _seconds(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f} s"


def _usd(value: float | None) -> str:
    return "n/a" if value is None else f"${value:.4f}"


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
        if step.content:
            lines.append(f"assistant: {step.content}")
        results = step.tool_results
        for n, call in enumerate(step.tool_calls):
            lines.append(f"> {call['name']}({_arguments(call['args'])})")
            if n < len(results):
                lines += [f"  | {line}" for line in _clip(results[n], result_chars).splitlines()]
    lines += ["", f"grader: {attempt.grade_status or 'not graded'}"]
    if attempt.check_output:
        lines += [f"  | {line}" for line in _clip(attempt.check_output, result_chars).splitlines()]
    return "\n".join(lines)


def _arguments(args) -> str:
    if not isinstance(args, dict):
        return _clip(str(args), 200)
    return ", ".join(f"{key}={_clip(repr(value), 200)}" for key, value in args.items())


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else f"{text[:limit]}... [{len(text) - limit} more characters]"
