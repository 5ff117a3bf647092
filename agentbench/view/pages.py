"""What the runs, report and attempts pages show, built from the store; no HTML here."""

from __future__ import annotations

import json

from sqlmodel import Session, or_, select

from agentbench import comparison
from agentbench.metrics import cost_per_solved_of, median, total_cost, why_none
from agentbench.rates import per_task, rate_with_interval
from agentbench.report import attempt_record
from agentbench.store import AttemptRow, RunRow, StepRow, list_runs, run_attempts

OUTCOMES = ("solved", "unsolved", "error")
ANY_FLAG = "*"


def labels_of(run: RunRow) -> dict[str, str]:
    return json.loads(getattr(run, "labels_json", None) or "{}")


def headline(attempts: list[dict]) -> dict:
    """One configuration's headline numbers, without the report's bootstraps (the runs page
    shows every run): solved/graded, rate with its 95% interval, cost per solved, median wall."""
    graded = [a for a in attempts if a["status"] != "error"]
    solve, interval = rate_with_interval(per_task(attempts))
    return {"solved": sum(a["solved"] for a in graded), "graded": len(graded), "rate": solve, "ci95": interval,
            "cost_per_solved_usd": cost_per_solved_of(attempts),
            "cost_per_solved_none": why_none(total_cost(a["cost_usd"] for a in attempts), sum(a["solved"] for a in graded)),
            "wall_s_median": median(a["wall_s"] for a in graded)}


def by_config(records: list[dict]) -> dict[str, list[dict]]:
    """Attempt records by `model/agent`, in the order they come."""
    return {"/".join(key): group for key, group in comparison.by_config(records).items()}


def run_summaries(engine) -> list[dict]:
    """Every run, newest first, with its labels and each configuration's headline numbers."""
    summaries = []
    for run in list_runs(engine):
        records = [attempt_record(row) for row in run_attempts(engine, run.name)]
        summaries.append({"run": run, "labels": labels_of(run),
                          "configs": {config: headline(group) for config, group in by_config(records).items()}})
    return summaries


def outcome_grid(rows: list[AttemptRow]) -> dict:
    """Task by configuration: each cell's attempts and solved/graded, for the report page."""
    configs = list(dict.fromkeys(f"{row.model}/{row.agent}" for row in rows))
    cells: dict[tuple[str, str], list[AttemptRow]] = {}
    for row in rows:
        cells.setdefault((row.task, f"{row.model}/{row.agent}"), []).append(row)
    grid = []
    for task in sorted({row.task for row in rows}):
        line = []
        for config in configs:
            attempts = cells.get((task, config), [])
            graded = [a for a in attempts if a.status != "error"]
            solved = sum(a.solved for a in graded)
            css = "error" if not graded else "all" if solved == len(graded) else "some" if solved else "none"
            line.append({"attempts": attempts, "solved": solved, "graded": len(graded), "css": css})
        grid.append({"task": task, "cells": line})
    return {"configs": configs, "rows": grid}


def outcome_of(row: AttemptRow) -> str:
    return "error" if row.status == "error" else "solved" if row.solved else "unsolved"


def attempts_with_text(engine, run: str, text: str) -> set[str]:
    """The ids of the run's attempts with a step whose content, tool calls or tool results hold
    `text` (case-insensitive)."""
    matches = [column.icontains(text, autoescape=True)
               for column in (StepRow.content, StepRow.tool_calls_json, StepRow.tool_results_json)]
    query = (select(StepRow.attempt_id).join(AttemptRow, AttemptRow.id == StepRow.attempt_id)
             .where(AttemptRow.run == run, or_(*matches)).distinct())
    with Session(engine) as session:
        return set(session.exec(query))


def filter_attempts(rows: list[AttemptRow], stop: str = "", flag: str = "", outcome: str = "", q: str = "",
                    text_matches: frozenset[str] = frozenset()) -> list[AttemptRow]:
    """The attempts the filters keep: a stop reason, a flag (ANY_FLAG: any), an outcome, and text
    in the task id or (`text_matches`, the ids whose steps hold it) in the trajectory."""
    def keep(row: AttemptRow) -> bool:
        flags = [f for f in row.flags.split(",") if f]
        return ((not stop or row.stop_reason == stop)
                and (not flag or (bool(flags) if flag == ANY_FLAG else flag in flags))
                and (not outcome or outcome_of(row) == outcome)
                and (not q or q.lower() in row.task.lower() or row.id in text_matches))

    return [row for row in rows if keep(row)]


def filter_choices(rows: list[AttemptRow]) -> dict[str, list[str]]:
    """The values the attempts page's selects offer: the run's stop reasons and flags."""
    return {"stops": sorted({row.stop_reason for row in rows}),
            "flags": sorted({f for row in rows for f in row.flags.split(",") if f}),
            "outcomes": list(OUTCOMES)}
