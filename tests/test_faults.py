"""Faults a run must survive: a killed or terminated process, and bad input that must stop
it with one sentence before anything is recorded."""

import errno
import json
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from conftest import FIXTURES
from sqlmodel import Session, select
from test_cli import TINY, agentbench
from test_swebench import record, write_jsonl

from agentbench.models.chat_server import Reply
from agentbench.sandbox.docker import remove_containers
from agentbench.store import (
    AttemptRow,
    RunRow,
    StepRow,
    attempt_id,
    get_run,
    list_runs,
    run_attempts,
    utcnow,
)


def run_containers(client, run: str, running_only: bool = False) -> list:
    return client.containers.list(all=not running_only, filters={"label": f"agentbench.run={run}"})


def start_run(run: str, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """`agentbench run` of 12 oracle attempts on TINY, two at a time, in the background."""
    command = [sys.executable, "-m", "agentbench", "run", "--model", "oracle", "--suite", TINY,
               "--epochs", "12", "--workers", "2", "--run", run]
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=stderr, text=True)


def wait_mid_run(process, client, engine, run: str) -> None:
    """Until the run has stored an attempt and has one in flight (a container running)."""
    deadline = time.monotonic() + 120
    while not (run_attempts(engine, run) and run_containers(client, run, running_only=True)):
        assert process.poll() is None, f"the run ended (code {process.returncode}) before it could be cut"
        assert time.monotonic() < deadline, "no attempt was stored within 120 s"
        time.sleep(0.1)


def one_sentence(done) -> str:
    """The single stderr line of a command that failed on the user's input (exit code 2)."""
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), done.stderr
    return lines[0]


def copy_tiny(parent):
    """A writable copy of the TINY suite under `parent`; returns (suite folder, its task folder)."""
    suite = parent / "tiny"
    shutil.copytree(FIXTURES / "tiny", suite)
    return suite, suite / "add-numbers"


# -- a killed or terminated run ----------------------------------------------------------------


@pytest.mark.usefixtures("python_image")
def test_sigkilled_run_resumes_with_every_attempt_recorded_once(docker_client, engine):
    """SIGKILL mid-run loses at most the attempts in flight; `sandbox prune` clears what the dead
    process left, and the resumed run records each (task, model, agent, epoch) exactly once."""
    process = start_run("k9")
    try:
        wait_mid_run(process, docker_client, engine, "k9")
        process.kill()
        process.wait(timeout=30)
        kept = {a.id: a.finished_at for a in run_attempts(engine, "k9")}
        assert 1 <= len(kept) < 12
        time.sleep(1)  # a container create the dead client had sent may still be landing in the engine

        pruned = agentbench("sandbox", "prune", "--run", "k9")
        assert pruned.returncode == 0, pruned.stderr
        assert not run_containers(docker_client, "k9")

        done = agentbench("run", "--model", "oracle", "--suite", TINY, "--epochs", "12", "--workers", "2", "--resume", "k9")
        assert done.returncode == 0, done.stdout + done.stderr
    finally:
        if process.poll() is None:
            process.kill()
        remove_containers(docker_client, {"agentbench.run": "k9"})
    attempts = run_attempts(engine, "k9")
    assert sorted(a.epoch for a in attempts) == list(range(12))
    assert all(a.solved and a.status == "solved" for a in attempts)
    assert {a.id: a.finished_at for a in attempts if a.id in kept} == kept  # stored before the kill, not run again
    assert get_run(engine, "k9").status == "completed"
    with Session(engine) as session:
        steps = list(session.exec(select(StepRow).where(StepRow.attempt_id.in_([a.id for a in attempts]))))
        orphans = list(session.exec(select(StepRow).where(StepRow.attempt_id.like("v1|k9|%"), StepRow.attempt_id.not_in([a.id for a in attempts]))))
    assert not [key for key, n in Counter((s.attempt_id, s.index) for s in steps).items() if n > 1]
    assert not orphans
    per_attempt = Counter(s.attempt_id for s in steps)
    assert {a.id: a.steps for a in attempts} == {a.id: per_attempt[a.id] for a in attempts}
    assert not run_containers(docker_client, "k9")


@pytest.mark.usefixtures("python_image")
def test_sigterm_stops_the_run_removes_its_containers_and_records_no_cut_attempt(docker_client, engine):
    """SIGTERM is an interrupt like Ctrl-C: exit 130, no container of the run left, the run marked
    interrupted, and the attempts cut short are not stored (every stored one is the oracle's solve)."""
    process = start_run("term", stderr=subprocess.PIPE)
    try:
        wait_mid_run(process, docker_client, engine, "term")
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode in (130, 143), stderr
    assert "resume with `agentbench run --resume term`" in stderr
    assert not run_containers(docker_client, "term")
    assert get_run(engine, "term").status == "interrupted"
    attempts = run_attempts(engine, "term")
    assert 1 <= len(attempts) < 12
    assert all(a.solved and a.status == "solved" and a.stop_reason == "submitted" for a in attempts), \
        [(a.epoch, a.status, a.stop_reason, a.detail[:200]) for a in attempts]


@pytest.mark.usefixtures("python_image")
def test_sigterm_does_not_wait_for_a_model_call_in_flight(tmp_path, docker_client, engine, scripted_server):
    """A slow endpoint (a reply 600 s away) cannot hold a terminated run: it ends in seconds,
    marked interrupted, with no container left."""
    server = scripted_server([Reply(content="late", delay_s=600)])
    models = tmp_path / "models.yaml"
    models.write_text(f"slow: {{provider: openai, model: scripted, base_url: '{server.url}', stream: false}}\n")
    command = [sys.executable, "-m", "agentbench", "run", "--model", "slow", "--suite", TINY, "--models-file", str(models),
               "--epochs", "2", "--workers", "2", "--run", "slow-term"]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while server.in_flight < 2:
            assert time.monotonic() < deadline and process.poll() is None, "the model calls did not start"
            time.sleep(0.1)
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=120)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr
    assert time.monotonic() - stopped < 20, "the run waited for the model calls in flight"
    assert not run_containers(docker_client, "slow-term")
    assert get_run(engine, "slow-term").status == "interrupted" and not run_attempts(engine, "slow-term")


# -- bad input: one sentence, exit code 2, nothing recorded -------------------------------------


@pytest.mark.parametrize("edit, problem", [
    (lambda text: "prompt: [unclosed\ncheck: true\n", " is not valid YAML: "),
    (lambda text: text.replace("limits: {steps: 10, seconds: 120}", "limits: {steps: many}"),
     ": field `limits.steps` input should be a valid integer"),
    (lambda text: text.replace("image: python", "image: rust-nightly"),
     ": field `image` names 'rust-nightly', which is not a recipe"),
], ids=["invalid-yaml", "wrong-type", "unknown-image"])
def test_a_broken_task_yaml_is_one_line_naming_the_file_and_field(tmp_path, engine, edit, problem):
    suite, task = copy_tiny(tmp_path)
    (task / "task.yaml").write_text(edit((task / "task.yaml").read_text()))
    line = one_sentence(agentbench("run", "--model", "oracle", "--suite", str(suite)))
    assert line.startswith(f"error: {task / 'task.yaml'}{problem}")
    assert not list_runs(engine)


def break_solution(task) -> None:
    """Make the reference patch's context wrong, so that `git apply` refuses it."""
    patch = task / "solution.patch"
    patch.write_text(patch.read_text().replace("-    return a - b", "-    return a - c"))


@pytest.mark.usefixtures("python_image")
def test_validate_says_which_task_has_a_solution_that_does_not_apply(tmp_path):
    suite, task = copy_tiny(tmp_path)
    break_solution(task)
    done = agentbench("tasks", str(suite), "--validate")
    assert done.returncode == 1, done.stdout + done.stderr
    broken = [line for line in done.stdout.splitlines() if line.startswith("BROKEN")]
    assert len(broken) == 1 and broken[0].startswith("BROKEN tiny/add-numbers: the reference solution does not ")
    assert "patch_failed" in broken[0] or "apply" in broken[0], broken[0]


@pytest.mark.usefixtures("python_image")
def test_oracle_with_a_solution_that_does_not_apply_is_recorded_unsolved(tmp_path, engine, docker_client):
    """The run completes; the attempt is stored as not solved, its trajectory showing why."""
    suite, task = copy_tiny(tmp_path)
    break_solution(task)
    done = agentbench("run", "--model", "oracle", "--suite", str(suite), "--run", "np")
    assert done.returncode == 0, done.stdout + done.stderr
    [attempt] = run_attempts(engine, "np")
    assert not attempt.solved and attempt.status == "unsolved" and attempt.grade_status == "failed"
    assert attempt.patch == ""
    with Session(engine) as session:
        results = [r for step in session.exec(select(StepRow).where(StepRow.attempt_id == attempt.id)) for r in step.tool_results]
    assert any("patch does not apply" in r for r in results), results
    assert get_run(engine, "np").status == "completed"
    assert not run_containers(docker_client, "np")
    assert "broken task: tiny/add-numbers: the oracle's reference solution was graded failed" in done.stdout
    report = json.loads(agentbench("report", "np", "--json", "-").stdout)
    assert report["broken_tasks"] == {"tiny/add-numbers": "the oracle's reference solution was graded failed"}


def test_two_suites_with_the_same_task_id_are_refused(tmp_path, engine):
    first, _ = copy_tiny(tmp_path / "a")
    second, _ = copy_tiny(tmp_path / "b")
    line = one_sentence(agentbench("run", "--model", "oracle", "--suite", str(first), "--suite", str(second)))
    assert line == "error: Task id 'tiny/add-numbers' appears twice in this run; give each suite a distinct folder name."
    assert not list_runs(engine)


def test_instance_file_with_an_id_twice_names_the_file_and_the_id(tmp_path, engine):
    path = write_jsonl(tmp_path / "twice.jsonl", [record(), record(instance_id="pallets__flask-2"), record()])
    line = one_sentence(agentbench("run", "--model", "oracle", "--suite", path))
    assert line == f"error: {path}: instance id pallets__flask-1 appears twice."
    assert not list_runs(engine)


@pytest.mark.docker  # `run` connects to the engine before it checks the rest
def test_unreachable_endpoint_stops_before_the_run_is_recorded(engine):
    done = agentbench("run", "--model", "llama3-8b", "--suite", TINY, "--base-url", "http://127.0.0.1:9/v1", "--run", "unreach")
    assert one_sentence(done).startswith("error: Endpoint http://127.0.0.1:9/v1/models for model 'llama3-8b' does not answer")
    assert not list_runs(engine)
    assert "unreach" not in agentbench("runs").stdout


@pytest.mark.docker  # `run` connects to the engine before it checks the rest
def test_unreachable_endpoint_on_resume_leaves_the_recorded_run_as_it_was(engine):
    """Resuming a finished run with a model whose endpoint is down changes nothing stored."""
    key = attempt_id("prior", "tiny/add-numbers", "oracle", "fast", 0)
    with Session(engine) as session:
        session.add(RunRow(name="prior", spec_json="{}", agentbench_version="test", status="completed", finished_at=utcnow()))
        session.add(AttemptRow(id=key, run="prior", task="tiny/add-numbers", model="oracle", agent="fast", epoch=0,
                               solved=True, status="solved", stop_reason="submitted", started_at=utcnow()))
        session.commit()
    before = get_run(engine, "prior").model_dump(), [a.model_dump() for a in run_attempts(engine, "prior")]
    done = agentbench("run", "--model", "llama3-8b", "--suite", TINY, "--base-url", "http://127.0.0.1:9/v1", "--resume", "prior")
    assert "does not answer" in one_sentence(done)
    assert (get_run(engine, "prior").model_dump(), [a.model_dump() for a in run_attempts(engine, "prior")]) == before


def test_faults_of_the_engine_the_store_and_the_disk_are_each_one_sentence(tmp_path):
    """Real exceptions from real parts: a Docker client on a socket nobody serves, a PostgreSQL
    port nobody listens on, a SQLite database that runs out of room (max_page_count)."""
    import docker
    import psycopg
    import sqlalchemy

    from agentbench.faults import fault_sentence

    caught = []
    for attempt in (lambda: docker.DockerClient(base_url=f"unix://{tmp_path}/none.sock").ping(),
                    lambda: psycopg.connect("host=127.0.0.1 port=1 user=x connect_timeout=2")):
        try:
            attempt()
        except Exception as exc:
            caught.append(exc)
    engine = sqlalchemy.create_engine(f"sqlite:///{tmp_path}/full.db")
    try:
        with engine.begin() as connection:
            connection.exec_driver_sql("PRAGMA max_page_count = 2")
            connection.exec_driver_sql("CREATE TABLE t (x TEXT)")
            for _ in range(100):
                connection.exec_driver_sql("INSERT INTO t VALUES (?)", ("x" * 4000,))
    except Exception as exc:
        caught.append(exc)
    docker_fault, store_fault, disk_fault = map(fault_sentence, caught)
    assert docker_fault.startswith("the Docker engine stopped answering")
    assert store_fault.startswith("the store's database server went away")
    assert disk_fault.startswith("the results disk is full")
    assert fault_sentence(OSError(errno.ENOSPC, "No space left on device")).startswith("the results disk is full")
    assert fault_sentence(ValueError("a bug")) is None  # anything else stays a traceback, for a bug report
