"""Two runs writing to one store at once, from two processes, on SQLite and PostgreSQL: every
row lands, once. And a real run stores its attempts on PostgreSQL."""

import json
import multiprocessing

import pytest
from sqlmodel import Session, func, select
from test_cli import TINY, agentbench

from agentbench.store import (
    AttemptRow,
    RunRow,
    StepRow,
    attempt_id,
    attempt_steps,
    run_attempts,
    utcnow,
)
from agentbench.store_open import open_store

ATTEMPTS, STEPS = 50, 3


def write_run(url: str, run: str, start) -> None:
    """One run's attempts, written as the runner writes them: each step as it happens, then the
    attempt, each in its own session."""
    start.wait()
    engine = open_store(url)
    with Session(engine) as session:
        session.add(RunRow(name=run, spec_json="{}", agentbench_version="test"))
        session.commit()
    for epoch in range(ATTEMPTS):
        key = attempt_id(run, "tiny/add-numbers", "oracle", "fast", epoch)
        for index in range(STEPS):
            with Session(engine) as session:
                session.add(StepRow(attempt_id=key, index=index, content=f"{run} step {index}"))
                session.commit()
        with Session(engine) as session:
            session.add(AttemptRow(id=key, run=run, task="tiny/add-numbers", model="oracle", agent="fast", epoch=epoch,
                                   solved=True, status="solved", stop_reason="submitted", steps=STEPS, started_at=utcnow()))
            session.commit()


def test_two_runs_write_to_a_new_store_at_once(store_url):
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(2)
    writers = [context.Process(target=write_run, args=(store_url, run, start)) for run in ("left", "right")]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(timeout=120)
        if writer.is_alive():
            writer.kill()
    assert [writer.exitcode for writer in writers] == [0, 0]
    engine = open_store(store_url)
    for run in ("left", "right"):
        attempts = run_attempts(engine, run)
        assert sorted(attempt.epoch for attempt in attempts) == list(range(ATTEMPTS))
        assert all([step.content for step in attempt_steps(engine, attempt.id)] == [f"{run} step {i}" for i in range(STEPS)]
                   for attempt in attempts)
    with Session(engine) as session:
        assert session.exec(select(func.count()).select_from(StepRow)).one() == 2 * ATTEMPTS * STEPS


@pytest.mark.usefixtures("python_image")
def test_a_run_stores_its_attempts_on_postgresql(postgres_url):
    env = {"AGENTBENCH_DB": postgres_url}
    done = agentbench("run", "--model", "oracle", "--suite", TINY, "--run", "pgrun", env=env)
    assert done.returncode == 0, done.stdout + done.stderr
    report = agentbench("report", "pgrun", "--json", "-", env=env)
    assert report.returncode == 0, report.stderr
    assert [(a["model"], a["solved"]) for a in json.loads(report.stdout)["attempts"]] == [("oracle", True)]
