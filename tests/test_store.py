"""The store, on SQLite and on a real PostgreSQL server: a database written by an earlier
version is brought up to date, nothing lost; what goes wrong is one sentence."""

import sqlite3
import time
from datetime import datetime

import pytest
from conftest import free_port
from sqlalchemy import (
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    create_engine,
    insert,
    update,
)
from sqlmodel import Session
from test_cli import agentbench

from agentbench.errors import UserError
from agentbench.store import MetaRow, RunRow, get_run, run_attempts, utcnow
from agentbench.store_open import SCHEMA_VERSION, open_store


def create_version_one_store(url: str) -> None:
    """The runs and attempts tables as the first agentbench wrote them, with one attempt."""
    old = MetaData()
    runs = Table("runs", old, Column("name", String, primary_key=True), Column("spec_json", String, nullable=False),
                 Column("agentbench_version", String, nullable=False), Column("status", String, nullable=False),
                 Column("created_at", DateTime, nullable=False), Column("finished_at", DateTime))
    attempts = Table(
        "attempts", old, Column("id", String, primary_key=True),
        *(Column(name, String, nullable=False) for name in ("run", "task", "model", "agent")),
        Column("epoch", Integer, nullable=False), Column("baseline", Boolean, nullable=False), Column("solved", Boolean, nullable=False),
        *(Column(name, String, nullable=False) for name in ("status", "stop_reason", "detail")), Column("grade_status", String),
        *(Column(name, Float, nullable=False) for name in ("wall_s", "model_s", "tool_s", "grade_s")),
        *(Column(name, Integer, nullable=False) for name in ("steps", "prompt_tokens", "completion_tokens", "cached_tokens")),
        Column("cost_usd", Float), Column("patch", String, nullable=False), Column("check_output", String, nullable=False),
        Column("started_at", DateTime, nullable=False), Column("finished_at", DateTime, nullable=False))
    engine = create_engine(url)
    with engine.begin() as connection:
        old.create_all(connection)
        connection.execute(insert(runs).values(name="old", spec_json="{}", agentbench_version="0.1", status="completed",
                                               created_at=datetime(2026, 11, 1, 10)))
        connection.execute(insert(attempts).values(
            id="a1", run="old", task="t", model="m", agent="fast", epoch=0, baseline=False, solved=True, status="solved",
            stop_reason="submitted", detail="", grade_status="passed", wall_s=2.0, model_s=1.0, tool_s=0.5, grade_s=0.3,
            steps=3, prompt_tokens=10, completion_tokens=5, cached_tokens=0, cost_usd=0.01, patch="diff", check_output="ok",
            started_at=datetime(2026, 11, 1, 10), finished_at=datetime(2026, 11, 1, 10, 0, 2)))
    engine.dispose()


def test_columns_added_since_an_older_store_are_added_with_their_defaults(store_url):
    create_version_one_store(store_url)
    engine = open_store(store_url)
    [attempt] = run_attempts(engine, "old")
    assert (attempt.solved, attempt.prompt_tokens, attempt.patch) == (True, 10, "diff")
    assert (attempt.queue_s, attempt.retries, attempt.gpu_s) == (0.0, 0, None)
    assert (get_run(engine, "old").profiles_json, get_run(engine, "old").notes_json) == ("{}", "[]")


def test_times_are_kept_in_utc_whatever_the_servers_zone(store_url):
    engine = open_store(store_url)
    created_at = utcnow()
    with Session(engine) as session:
        session.add(RunRow(name="r", spec_json="{}", agentbench_version="0", created_at=created_at))
        session.commit()
    assert get_run(engine, "r").created_at == created_at


def test_a_store_from_a_newer_agentbench_is_refused_in_one_sentence(store_url):
    engine = open_store(store_url)
    with engine.begin() as connection:
        connection.execute(update(MetaRow).where(MetaRow.key == "schema_version").values(value=str(SCHEMA_VERSION + 1)))
    done = agentbench("runs", env={"AGENTBENCH_DB": store_url})
    assert done.returncode == 2
    assert done.stderr == (f"error: The store {store_url} was written by a newer agentbench (schema {SCHEMA_VERSION + 1}, this one reads "
                           f"up to {SCHEMA_VERSION}); upgrade agentbench, or point AGENTBENCH_DB at another store.\n")


def test_a_postgres_server_that_does_not_answer_is_one_sentence_without_its_password():
    port = free_port()
    done = agentbench("runs", env={"AGENTBENCH_DB": f"postgresql+psycopg://team:s3cret@127.0.0.1:{port}/agentbench"})
    assert done.returncode == 2
    assert done.stderr.startswith(f"error: Cannot open the store postgresql+psycopg://team:***@127.0.0.1:{port}/agentbench (AGENTBENCH_DB): "
                                  "OperationalError: connection failed:")
    assert done.stderr.endswith("Connection refused.\n") and "s3cret" not in done.stderr
    assert len(done.stderr.splitlines()) == 1


def test_a_url_that_is_no_url_is_one_sentence():
    with pytest.raises(UserError) as error:
        open_store("team-store")
    assert str(error.value) == "Cannot open the store team-store (AGENTBENCH_DB): ArgumentError: Could not parse SQLAlchemy URL from given URL string."


def test_a_locked_store_is_one_sentence_within_seconds(tmp_path):
    url = f"sqlite:///{tmp_path / 'busy.db'}"
    open_store(url)
    holder = sqlite3.connect(tmp_path / "busy.db", isolation_level=None)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        started = time.monotonic()
        done = agentbench("runs", env={"AGENTBENCH_DB": url})
        assert time.monotonic() - started < 25
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert done.returncode == 2 and f"error: The store {url} is locked by another process" in done.stderr
    assert agentbench("runs", env={"AGENTBENCH_DB": url}).returncode == 0
