"""The command line as a user meets it: real subprocesses, real Docker, one-sentence errors."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import FIXTURES

TINY = str(FIXTURES / "tiny")


def agentbench(*args, timeout=600, env=None):
    return subprocess.run([sys.executable, "-m", "agentbench", *args], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_unknown_model_profile_is_one_sentence():
    done = agentbench("run", "--model", "gpt-17", "--suite", TINY)
    assert done.returncode == 2
    assert done.stderr.strip().startswith("error: Unknown model profile 'gpt-17'; known:")
    assert len(done.stderr.strip().splitlines()) == 1


def test_missing_suite_folder_is_one_sentence():
    done = agentbench("run", "--model", "oracle", "--suite", "/no/such/suite")
    assert done.returncode == 2
    assert "Suite '/no/such/suite' is neither a folder nor a suite" in done.stderr


def test_task_missing_check_is_one_sentence(tmp_path):
    task = tmp_path / "suite" / "t1"
    (task / "workspace").mkdir(parents=True)
    (task / "tests").mkdir()
    (task / "task.yaml").write_text("prompt: do it\n")
    done = agentbench("tasks", str(tmp_path / "suite"))
    assert done.returncode == 2
    assert f"{task / 'task.yaml'}: field `check` is required." in done.stderr


def test_no_docker_engine_is_one_sentence():
    done = agentbench("run", "--model", "oracle", "--suite", TINY, env={"DOCKER_HOST": "unix:///nonexistent/docker.sock"})
    assert done.returncode == 2
    assert "No Docker engine answers; run `make setup`" in done.stderr


def test_unreachable_endpoint_names_the_url(tmp_path):
    done = agentbench("run", "--model", "llama3-8b", "--suite", TINY, "--base-url", "http://127.0.0.1:9/v1")
    assert done.returncode == 2
    assert "Endpoint http://127.0.0.1:9/v1/models for model 'llama3-8b' does not answer" in done.stderr


def test_models_lists_baselines_as_such():
    done = agentbench("models")
    assert done.returncode == 0
    assert "oracle (baseline)" in done.stdout and "noop (baseline)" in done.stdout


@pytest.mark.usefixtures("python_image")
def test_validate_proves_every_shipped_task():
    done = agentbench("tasks", "multistep", "--validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "BROKEN" not in done.stdout


@pytest.mark.usefixtures("python_image")
def test_validate_names_a_broken_task(tmp_path):
    import shutil

    suite = tmp_path / "suite"
    shutil.copytree(FIXTURES / "tiny", suite)
    (suite / "add-numbers" / "solution.patch").write_text((suite / "add-numbers" / "solution.patch").read_text().replace("a + b", "a * b"))
    done = agentbench("tasks", str(suite), "--validate")
    assert done.returncode == 1
    assert "BROKEN suite/add-numbers: the reference solution does not pass (failed)" in done.stdout


@pytest.mark.usefixtures("python_image")
def test_oracle_solves_every_task_and_noop_none(docker_client):
    done = agentbench("run", "--model", "oracle,noop", "--suite", "multistep", "--run", "baselines", "--workers", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(agentbench("report", "baselines", "--json", "-").stdout)
    configs = {c["model"]: c for c in report["configs"]}
    tasks = len({a["task"] for a in report["attempts"]})
    assert tasks >= 10
    assert (configs["oracle"]["solved"], configs["oracle"]["attempts"], configs["oracle"]["rate"]) == (tasks, tasks, 1.0)
    assert (configs["noop"]["solved"], configs["noop"]["rate"]) == (0, 0.0)
    for config in report["configs"]:
        assert config["baseline"] is True
        assert {"model", "agent", "attempts", "solved", "rate", "ci95", "wall_s_median", "prompt_tokens",
                "completion_tokens", "cost_usd", "cost_per_solved_usd"} <= set(config)
    for attempt in report["attempts"]:
        assert {"task", "model", "agent", "epoch", "solved", "status", "stop_reason", "wall_s", "steps",
                "prompt_tokens", "completion_tokens", "cost_usd"} <= set(attempt)
        assert attempt["stop_reason"] == "submitted"
    assert not docker_client.containers.list(all=True, filters={"label": "agentbench.run=baselines"})


@pytest.mark.usefixtures("python_image")
def test_interrupted_run_leaves_no_containers_and_resumes(docker_client, engine):
    from agentbench.store import get_run, run_attempts

    command = [sys.executable, "-m", "agentbench", "run", "--model", "oracle", "--suite", TINY, "--epochs", "12", "--run", "cut"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 120
    while not docker_client.containers.list(filters={"label": "agentbench.run=cut"}):
        assert time.monotonic() < deadline and process.poll() is None, "no attempt started"
        time.sleep(0.1)
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert "resume with `agentbench run --resume cut`" in stderr
    assert not docker_client.containers.list(all=True, filters={"label": "agentbench.run=cut"})
    assert get_run(engine, "cut").status == "interrupted"
    recorded = len(run_attempts(engine, "cut"))
    assert recorded < 12

    done = agentbench("run", "--model", "oracle", "--suite", TINY, "--epochs", "12", "--resume", "cut")
    assert done.returncode == 0, done.stderr
    attempts = run_attempts(engine, "cut")
    assert sorted(a.epoch for a in attempts) == list(range(12))
    assert all(a.solved for a in attempts)
    assert get_run(engine, "cut").status == "completed"
