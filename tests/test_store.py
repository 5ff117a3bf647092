"""The store: a database written by an earlier version is brought up to date, nothing lost."""

import sqlite3
import time

from agentbench.store import SCHEMA_VERSION, open_store, run_attempts

from test_cli import agentbench


def test_columns_added_since_an_older_store_are_added_with_their_defaults(tmp_path):
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute("CREATE TABLE runs (name VARCHAR PRIMARY KEY, spec_json VARCHAR NOT NULL, agentbench_version VARCHAR NOT NULL, "
                   "status VARCHAR NOT NULL, created_at DATETIME NOT NULL, finished_at DATETIME)")
        db.execute("CREATE TABLE attempts (id VARCHAR PRIMARY KEY, run VARCHAR NOT NULL, task VARCHAR NOT NULL, model VARCHAR NOT NULL, "
                   "agent VARCHAR NOT NULL, epoch INTEGER NOT NULL, baseline BOOLEAN NOT NULL, solved BOOLEAN NOT NULL, "
                   "status VARCHAR NOT NULL, stop_reason VARCHAR NOT NULL, detail VARCHAR NOT NULL, grade_status VARCHAR, "
                   "wall_s FLOAT NOT NULL, model_s FLOAT NOT NULL, tool_s FLOAT NOT NULL, grade_s FLOAT NOT NULL, steps INTEGER NOT NULL, "
                   "prompt_tokens INTEGER NOT NULL, completion_tokens INTEGER NOT NULL, cached_tokens INTEGER NOT NULL, cost_usd FLOAT, "
                   "patch VARCHAR NOT NULL, check_output VARCHAR NOT NULL, started_at DATETIME NOT NULL, finished_at DATETIME NOT NULL)")
        db.execute("INSERT INTO runs VALUES ('old', '{}', '0.1', 'completed', '2026-11-01 10:00:00', NULL)")
        db.execute("INSERT INTO attempts VALUES ('a1', 'old', 't', 'm', 'fast', 0, 0, 1, 'solved', 'submitted', '', 'passed', "
                   "2.0, 1.0, 0.5, 0.3, 3, 10, 5, 0, 0.01, 'diff', 'ok', '2026-11-01 10:00:00', '2026-11-01 10:00:02')")
    engine = open_store(f"sqlite:///{path}")
    [attempt] = run_attempts(engine, "old")
    assert (attempt.solved, attempt.prompt_tokens, attempt.patch) == (True, 10, "diff")
    assert (attempt.queue_s, attempt.retries, attempt.gpu_s) == (0.0, 0, None)


def test_a_store_from_a_newer_agentbench_is_refused_in_one_sentence(tmp_path):
    url = f"sqlite:///{tmp_path / 'new.db'}"
    open_store(url)
    with sqlite3.connect(tmp_path / "new.db") as db:
        db.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(SCHEMA_VERSION + 1),))
    done = agentbench("runs", env={"AGENTBENCH_DB": url})
    assert done.returncode == 2
    assert done.stderr == (f"error: The store {url} was written by a newer agentbench (schema {SCHEMA_VERSION + 1}, this one reads "
                           f"up to {SCHEMA_VERSION}); upgrade agentbench, or point AGENTBENCH_DB at another store.\n")


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
