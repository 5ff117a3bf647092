"""The store: SQLModel tables for runs, attempts and steps, and the engine (AGENTBENCH_DB)."""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

from sqlalchemy.exc import OperationalError
from sqlmodel import Field, Session, SQLModel, create_engine, select

from agentbench.errors import UserError
from agentbench.paths import results_dir


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class RunRow(SQLModel, table=True):
    """One run: its name, what it was asked to do, and how it ended."""

    __tablename__ = "runs"
    name: str = Field(primary_key=True)
    spec_json: str
    agentbench_version: str
    status: str = "running"  # running | completed | interrupted | failed
    created_at: datetime = Field(default_factory=utcnow)
    finished_at: datetime | None = None


class AttemptRow(SQLModel, table=True):
    """One attempt of one (task, model, agent, epoch), written once when it ends."""

    __tablename__ = "attempts"
    id: str = Field(primary_key=True)
    run: str = Field(index=True, foreign_key="runs.name")
    task: str
    model: str
    agent: str
    epoch: int
    baseline: bool = False
    solved: bool = False
    status: str  # solved | unsolved | error
    stop_reason: str
    detail: str = ""
    grade_status: str | None = None
    wall_s: float = 0.0
    model_s: float = 0.0
    tool_s: float = 0.0
    grade_s: float = 0.0
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None
    patch: str = ""
    check_output: str = ""
    started_at: datetime
    finished_at: datetime = Field(default_factory=utcnow)


class StepRow(SQLModel, table=True):
    """One model call of an attempt and the tool calls it made, stored as it happens."""

    __tablename__ = "steps"
    id: int | None = Field(default=None, primary_key=True)
    attempt_id: str = Field(index=True)
    index: int
    phase: str = "act"
    content: str = ""
    tool_calls_json: str = "[]"
    tool_results_json: str = "[]"
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    model_s: float = 0.0
    tool_s: float = 0.0
    note: str = ""
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def tool_calls(self) -> list[dict]:
        return json.loads(self.tool_calls_json)

    @property
    def tool_results(self) -> list[str]:
        return json.loads(self.tool_results_json)


def attempt_id(run: str, task: str, model: str, agent: str, epoch: int) -> str:
    """The deterministic key of an attempt (v1), so a resumed run skips what it has."""
    return f"v1|{run}|{task}|{model}|{agent}|{epoch}"


def database_url() -> str:
    return os.environ.get("AGENTBENCH_DB") or f"sqlite:///{results_dir() / 'agentbench.db'}"


def open_store(url: str | None = None):
    """An engine with the tables created; a bad URL or unusable file is one sentence."""
    url = url or database_url()
    try:
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False} if url.startswith("sqlite") else {})
        SQLModel.metadata.create_all(engine)
    except (OperationalError, ImportError, ValueError) as exc:
        raise UserError(f"Cannot open the store {url} (AGENTBENCH_DB): {exc.__class__.__name__}: {exc}.") from None
    return engine


def list_runs(engine) -> list[RunRow]:
    """Every run, newest first."""
    with Session(engine) as session:
        return list(session.exec(select(RunRow).order_by(RunRow.created_at.desc())))


def latest_run(engine) -> str | None:
    runs = list_runs(engine)
    return runs[0].name if runs else None


def get_run(engine, name: str | None) -> RunRow:
    """A run by name (the latest when None), or a sentence saying which exist."""
    with Session(engine) as session:
        name = name or latest_run(engine)
        row = session.get(RunRow, name) if name else None
        if row is None:
            raise UserError(f"No run {name!r} in the store; see `agentbench runs`." if name else "The store holds no runs yet; start one with `agentbench run`.")
        return row


def run_attempts(engine, run: str) -> list[AttemptRow]:
    with Session(engine) as session:
        return list(session.exec(select(AttemptRow).where(AttemptRow.run == run).order_by(AttemptRow.task, AttemptRow.model, AttemptRow.agent, AttemptRow.epoch)))


def attempt_steps(engine, attempt: str) -> list[StepRow]:
    with Session(engine) as session:
        return list(session.exec(select(StepRow).where(StepRow.attempt_id == attempt).order_by(StepRow.index)))
