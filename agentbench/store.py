"""The store's tables (runs, attempts, steps, servers) and the queries that read them; opening a
store is agentbench.store_open."""

from __future__ import annotations

import json
from datetime import datetime, timezone

from sqlmodel import Field, Session, SQLModel, select

from agentbench.errors import UserError


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


class MetaRow(SQLModel, table=True):
    """Facts about the store itself: its schema version."""

    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class RunRow(SQLModel, table=True):
    """One run: its name, what it was asked to do, and how it ended."""

    __tablename__ = "runs"
    name: str = Field(primary_key=True)
    spec_json: str
    agentbench_version: str
    status: str = "running"  # running | completed | interrupted | failed
    profiles_json: str = "{}"  # the resolved model profiles, prices and their dates included (no secrets)
    notes_json: str = "[]"  # deviations from what the tasks specify (an environment's Python, say)
    lock_json: str = "{}"  # what decided the results besides chance (agentbench.lock)
    labels_json: str = "{}"  # the user's labels, e.g. {"release": "1.4.0"}
    harness_json: str = "[]"  # the harness's own model requests at the run's start (agentbench.books)
    decision_json: str = "{}"  # a decided run's plan: its two configurations and its number of tasks
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
    status: str  # solved | unsolved | tampered | error
    stop_reason: str
    detail: str = ""
    grade_status: str | None = None
    wall_s: float = 0.0
    model_s: float = 0.0
    tool_s: float = 0.0
    grade_s: float = 0.0
    queue_s: float = 0.0  # waiting for a connection slot to the model's endpoint
    retries: int = 0
    infra_retries: int = 0  # tries again after a sandbox or grader failure
    node: str | None = None  # the machine the (last) try ran on
    retry_tokens: int = 0  # prompt and completion tokens of the tries before the last (in the totals too)
    retry_cost_usd: float | None = 0.0  # what the tries before the last cost (in cost_usd too)
    retry_wall_s: float = 0.0  # their wall time (not in wall_s, which is the last try's)
    steps: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    cost_usd: float | None = None
    gpu_s: float | None = None  # self-hosted: this attempt's share of the server's GPU-seconds
    unreported_calls: int = 0  # model calls whose tokens the server did not report (unknown, not zero)
    harness_requests: int = 0  # the harness's own probes of the endpoint during the attempt (not in its totals)
    harness_prompt_tokens: int = 0
    harness_completion_tokens: int = 0
    harness_cost_usd: float | None = 0.0
    tool_call_checks: int = 0  # model calls that offered tools
    valid_tool_calls: int = 0  # of those, replies whose tool calls were all valid (agents.loop.call_problem)
    f2p_passed: int | None = None  # SWE-bench: FAIL_TO_PASS and PASS_TO_PASS tests that passed and failed
    f2p_failed: int | None = None
    p2p_passed: int | None = None
    p2p_failed: int | None = None
    flags: str = ""  # comma-separated look-ups found in the trajectory (agentbench.lookups) and patch flags (agentbench.patch_look)
    patch: str = ""
    check_output: str = ""
    started_at: datetime
    finished_at: datetime = Field(default_factory=utcnow)


class StepRow(SQLModel, table=True):
    """One model call of an attempt and the tool calls it made, stored as it happens."""

    __tablename__ = "steps"
    id: int | None = Field(default=None, primary_key=True)
    attempt_id: str = Field(index=True)
    try_number: int = 0  # 0, or which infrastructure retry of the attempt made the step
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
    queue_s: float = 0.0
    ttft_s: float | None = None
    retries_json: str = "[]"
    note: str = ""
    usage_reported: bool = True
    call_problem: str | None = None
    created_at: datetime = Field(default_factory=utcnow)

    @property
    def tool_calls(self) -> list[dict]:
        return json.loads(self.tool_calls_json)

    @property
    def tool_results(self) -> list[str]:
        return json.loads(self.tool_results_json)

    @property
    def retries(self) -> list[dict]:
        return json.loads(self.retries_json)


class ServerRow(SQLModel, table=True):
    """A self-hosted server's time in a run (vLLM on GPUs, llama.cpp on the CPU): started by
    us, or a running one the run used."""

    __tablename__ = "servers"
    id: int | None = Field(default=None, primary_key=True)
    run: str = Field(index=True, foreign_key="runs.name")
    model: str
    url: str
    started_by_us: bool
    command: str = ""
    gpus: int  # 0 for a CPU server
    gpu_hour_usd: float | None = None
    kind: str = "vllm"  # vllm | llamacpp
    machine_hour_usd: float | None = None  # a CPU server's price: its machine's hour
    vllm_version: str | None = None
    started_at: datetime = Field(default_factory=utcnow)
    ready_s: float | None = None  # seconds from start until it answered
    uptime_s: float = 0.0  # seconds the run held it (its GPUs were paid for)
    stopped_at: datetime | None = None


class ServerSampleRow(SQLModel, table=True):
    """One reading of a server's /metrics: its batch, queue, KV cache and prefix cache."""

    __tablename__ = "server_samples"
    id: int | None = Field(default=None, primary_key=True)
    server_id: int = Field(index=True, foreign_key="servers.id")
    at_s: float
    running: float | None = None
    waiting: float | None = None
    kv_cache_usage: float | None = None
    prefix_hits: float | None = None
    prefix_queries: float | None = None


def attempt_id(run: str, task: str, model: str, agent: str, epoch: int) -> str:
    """The deterministic key of an attempt (v1), so a resumed run skips what it has."""
    return f"v1|{run}|{task}|{model}|{agent}|{epoch}"


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


def stored_attempt_ids(engine, run: str) -> set[str]:
    with Session(engine) as session:
        return set(session.exec(select(AttemptRow.id).where(AttemptRow.run == run)))


def attempts_of_models(engine, models: list[str]) -> list[AttemptRow]:
    """Every stored attempt of these model profiles, in any run."""
    with Session(engine) as session:
        return list(session.exec(select(AttemptRow).where(AttemptRow.model.in_(models))))


def attempt_steps(engine, attempt: str) -> list[StepRow]:
    with Session(engine) as session:
        return list(session.exec(select(StepRow).where(StepRow.attempt_id == attempt).order_by(StepRow.try_number, StepRow.index)))


def run_servers(engine, run: str) -> list[tuple[ServerRow, list[ServerSampleRow]]]:
    """The run's vLLM server sessions, each with its /metrics samples in order."""
    with Session(engine) as session:
        servers = list(session.exec(select(ServerRow).where(ServerRow.run == run).order_by(ServerRow.id)))
        return [(server, list(session.exec(select(ServerSampleRow).where(ServerSampleRow.server_id == server.id).order_by(ServerSampleRow.at_s))))
                for server in servers]
