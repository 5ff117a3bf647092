"""The one writer of the store: a run, its notes and lock record, each attempt's steps as they
happen and the attempt when it ends, the self-hosted servers it used, and how it finished.

Every write is its own transaction, so a crash loses at most what was in flight.
"""

from __future__ import annotations

import json

from sqlmodel import Session, delete, select

from agentbench import __version__
from agentbench.attempt import AttemptResult
from agentbench.contracts import INFRA_STOPS, Step
from agentbench.cost import attempt_cost_usd, shares_of_servers, token_cost_usd
from agentbench.errors import UserError
from agentbench.grading import graded_status, test_columns
from agentbench.lookups import lookup_flags
from agentbench.patch_look import flag_kinds
from agentbench.models.profiles import ModelProfile
from agentbench.store import (
    AttemptRow,
    RunRow,
    ServerRow,
    ServerSampleRow,
    StepRow,
    utcnow,
)


def attempt_row(run: str, key: str, task: str, profile: ModelProfile, agent: str, epoch: int, result: AttemptResult) -> AttemptRow:
    """The stored form of one attempt's result (not yet stored): totals, cost, verdict, flags."""
    steps, verdict, stop = result.steps, result.verdict, result.stop
    prompt, completion, cached = (sum(getattr(s, name) for s in steps) for name in ("prompt_tokens", "completion_tokens", "cached_tokens"))
    unreported = sum(1 for s in steps if not s.usage_reported)
    checked = [s.call_problem for s in steps if s.call_problem is not None]
    return AttemptRow(
        id=key, run=run, task=task, model=profile.name, agent=agent, epoch=epoch, baseline=profile.baseline,
        solved=bool(verdict and verdict.solved), status="error" if stop.reason in INFRA_STOPS else graded_status(verdict),
        stop_reason=stop.reason, detail=stop.detail[:2000], grade_status=verdict.status if verdict else None,
        wall_s=result.wall_s, model_s=sum(s.model_s for s in steps), tool_s=sum(s.tool_s for s in steps),
        grade_s=verdict.duration_s if verdict else 0.0, steps=len(steps),
        queue_s=sum(s.queue_s for s in steps), retries=sum(len(s.retries) for s in steps),
        prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached,
        cost_usd=attempt_cost_usd(profile, prompt, completion, cached, unreported),
        harness_requests=result.harness_tokens[0], harness_prompt_tokens=result.harness_tokens[1],
        harness_completion_tokens=result.harness_tokens[2], harness_cost_usd=token_cost_usd(profile, *result.harness_tokens[1:]),
        unreported_calls=unreported, tool_call_checks=len(checked), valid_tool_calls=checked.count(""),
        **test_columns(verdict.tests if verdict else None),
        flags=",".join(lookup_flags([call for s in steps for call in s.tool_calls], result.git_commands) + flag_kinds(result.patch)),
        patch=result.patch, check_output=verdict.output if verdict else "", started_at=result.started_at, node=result.node,
    )


class RunRecorder:
    """Writes the records of run `run` to the store `engine`."""

    def __init__(self, engine, run: str):
        self.engine = engine
        self.run = run

    def start(self, spec_json: str, profiles_json: str = "{}", notes: list[str] = (), new_only: bool = False,
              labels: dict[str, str] | None = None) -> None:
        """Mark the run as running (recording it if new) with its spec, profiles and labels;
        `new_only` refuses a name that is taken."""
        with Session(self.engine) as session:
            row = session.get(RunRow, self.run)
            if row is not None and new_only:
                raise UserError(f"A run named {self.run!r} exists already; pass another --run.")
            row = row or RunRow(name=self.run, spec_json="", agentbench_version=__version__)
            row.spec_json, row.profiles_json, row.status, row.finished_at = spec_json, profiles_json, "running", None
            row.labels_json = json.dumps(labels or {}, sort_keys=True)
            session.add(row)
            session.commit()
        self.add_notes(list(notes))

    def add_notes(self, notes: list[str]) -> None:
        """Add notes to the run's, each once."""
        if not notes:
            return
        with Session(self.engine) as session:
            row = session.get(RunRow, self.run)
            row.notes_json = json.dumps(list(dict.fromkeys([*json.loads(row.notes_json or "[]"), *notes])))
            session.add(row)
            session.commit()

    def write_plan(self, plan: dict) -> None:
        """What a decided run's reports need of its plan (agentbench.sequential.decision_plan)."""
        self._update_run(decision_json=json.dumps(plan))

    def add_harness_calls(self, calls: list[dict]) -> None:
        """Add the harness's own model requests (each {model, purpose, prompt_tokens,
        completion_tokens, cost_usd}) to the run's books; a resumed run adds its own."""
        if not calls:
            return
        with Session(self.engine) as session:
            row = session.get(RunRow, self.run)
            row.harness_json = json.dumps([*json.loads(row.harness_json or "[]"), *calls])
            session.add(row)
            session.commit()

    def drop_notes(self, prefix: str) -> None:
        """Drop the run's notes that start with `prefix` (what a resumed run no longer holds)."""
        with Session(self.engine) as session:
            row = session.get(RunRow, self.run)
            row.notes_json = json.dumps([note for note in json.loads(row.notes_json or "[]") if not note.startswith(prefix)])
            session.add(row)
            session.commit()

    def delete(self) -> int:
        """Remove the run and everything recorded of it; how many attempts it had."""
        with Session(self.engine) as session:
            ids = list(session.exec(select(AttemptRow.id).where(AttemptRow.run == self.run)))
            servers = list(session.exec(select(ServerRow.id).where(ServerRow.run == self.run)))
            session.exec(delete(StepRow).where(StepRow.attempt_id.in_(ids)))
            session.exec(delete(ServerSampleRow).where(ServerSampleRow.server_id.in_(servers)))
            session.exec(delete(ServerRow).where(ServerRow.run == self.run))
            session.exec(delete(AttemptRow).where(AttemptRow.run == self.run))
            session.exec(delete(RunRow).where(RunRow.name == self.run))
            session.commit()
        return len(ids)

    def lock(self) -> dict:
        """The run's lock record as stored ({} when none is)."""
        with Session(self.engine) as session:
            return json.loads(session.get(RunRow, self.run).lock_json or "{}")

    def write_lock(self, lock: dict) -> None:
        self._update_run(lock_json=json.dumps(lock))

    def finish(self, status: str) -> None:
        self._update_run(status=status, finished_at=utcnow())

    def clear_steps(self, attempt_id: str) -> None:
        """Drop the steps an interrupted session left for an attempt about to run again."""
        with Session(self.engine) as session:
            session.exec(delete(StepRow).where(StepRow.attempt_id == attempt_id))
            session.commit()

    def add_step(self, attempt_id: str, try_number: int, step: Step) -> None:
        row = StepRow(
            attempt_id=attempt_id, try_number=try_number, index=step.index, phase=step.phase, content=step.content,
            note=step.note, tool_calls_json=json.dumps(step.tool_calls), tool_results_json=json.dumps(step.tool_results),
            prompt_tokens=step.prompt_tokens, completion_tokens=step.completion_tokens, cached_tokens=step.cached_tokens,
            model_s=step.model_s, tool_s=step.tool_s, queue_s=step.queue_s, ttft_s=step.ttft_s,
            retries_json=json.dumps(step.retries), usage_reported=step.usage_reported, call_problem=step.call_problem,
        )
        self._add(row)

    def add_attempt(self, row: AttemptRow) -> AttemptRow:
        """Store a finished attempt; the row comes back as stored."""
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            session.refresh(row)
        return row

    def add_server(self, row: ServerRow) -> int:
        """Store a server session of the run; its id."""
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            return row.id

    def update_server(self, server_id: int, **fields) -> None:
        with Session(self.engine) as session:
            row = session.get(ServerRow, server_id)
            for key, value in fields.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()

    def add_sample(self, server_id: int, sample: ServerSampleRow) -> None:
        sample.server_id = server_id
        self._add(sample)

    def settle_self_hosted(self) -> None:
        """Give each self-hosted attempt of the run its share, by tokens, of its model's server
        time (GPU-seconds, for GPU servers) and its cost, over every session of the run (a
        resumed run has several)."""
        with Session(self.engine) as session:
            servers = list(session.exec(select(ServerRow).where(ServerRow.run == self.run)))
            for model in {server.model for server in servers}:
                sessions = [(s.uptime_s, s.gpus, s.gpu_hour_usd, s.machine_hour_usd) for s in servers if s.model == model]
                attempts = list(session.exec(select(AttemptRow).where(AttemptRow.run == self.run, AttemptRow.model == model)))
                gpu_s, cost = shares_of_servers(sessions, {a.id: a.prompt_tokens + a.completion_tokens for a in attempts})
                for attempt in attempts:
                    attempt.gpu_s, attempt.cost_usd = gpu_s[attempt.id], cost[attempt.id]
                    session.add(attempt)
            session.commit()

    def _update_run(self, **fields) -> None:
        with Session(self.engine) as session:
            row = session.get(RunRow, self.run)
            for key, value in fields.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()

    def _add(self, row) -> None:
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
