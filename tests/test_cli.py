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
ROOT = Path(__file__).resolve().parent.parent


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


@pytest.mark.docker  # `run` connects to the engine before it checks the rest
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
def test_matrix_of_baselines_through_every_scaffold(docker_client, tmp_path):
    """2 models x 3 agents over tasks/multistep, from the shipped spec (at one epoch: the oracle
    is deterministic): oracle solves every task through each scaffold (none loses a correct
    solution on the way to the grader), noop solves none."""
    spec = tmp_path / "baselines.yaml"
    spec.write_text((ROOT / "runs" / "baselines.yaml").read_text().replace("epochs: 2", "epochs: 1"))
    done = agentbench("run", "--spec", str(spec), "--run", "matrix")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(agentbench("report", "matrix", "--json", "-").stdout)
    tasks = len({a["task"] for a in report["attempts"]})
    assert tasks >= 10
    configs = {(c["model"], c["agent"]): c for c in report["configs"]}
    assert set(configs) == {(m, a) for m in ("oracle", "noop") for a in ("fast", "deliberate", "minimal")}
    for (model, agent), config in configs.items():
        assert config["attempts"] == tasks and config["errors"] == 0 and config["baseline"] is True
        assert config["solved"] == (tasks if model == "oracle" else 0), (model, agent)
        assert {"model", "agent", "attempts", "solved", "rate", "ci95", "wall_s_median", "prompt_tokens",
                "completion_tokens", "cost_usd", "cost_per_solved_usd"} <= set(config)
    for attempt in report["attempts"]:
        assert {"task", "model", "agent", "epoch", "solved", "status", "stop_reason", "wall_s", "steps",
                "prompt_tokens", "completion_tokens", "cost_usd"} <= set(attempt)
        assert attempt["stop_reason"] == "submitted" and attempt["epoch"] == 0
    assert not docker_client.containers.list(all=True, filters={"label": "agentbench.run=matrix"})

    shown = agentbench("show", "matrix", "csv-totals", "--model", "oracle", "--agent", "deliberate", "--epoch", "0")
    assert shown.returncode == 0, shown.stderr
    assert "multistep/csv-totals | oracle (baseline) | deliberate | epoch 0" in shown.stdout
    for line in ("[plan]", "> create_file(path='/tmp/oracle.patch'", "[verify]", "> verdict(passed=True", "grader: passed"):
        assert line in shown.stdout


def test_spec_file_errors_name_the_field(tmp_path):
    spec = tmp_path / "bad.yaml"
    spec.write_text("models: [oracle]\nepoch: 2\n")
    done = agentbench("run", "--spec", str(spec))
    assert done.returncode == 2
    assert f"{spec}: field `epoch` extra inputs are not permitted." in done.stderr
    assert "Give either --spec FILE or --model" in agentbench("run", "--spec", str(spec), "--model", "oracle").stderr


@pytest.mark.docker  # `run` connects to the engine before it checks the rest
def test_unknown_agent_lists_the_scaffolds():
    done = agentbench("run", "--model", "oracle", "--agent", "clever", "--suite", TINY)
    assert done.returncode == 2
    assert "Unknown agent 'clever'; known: deliberate, fast, minimal." in done.stderr


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


@pytest.mark.usefixtures("python_image")
def test_sandbox_prune_removes_leftover_containers_and_images_list_shows_ours(docker_client, python_image):
    from agentbench.sandbox.docker import DockerSandbox

    DockerSandbox.start(docker_client, python_image, labels={"agentbench.run": "crashed"})
    done = agentbench("sandbox", "prune", "--run", "crashed")
    assert done.returncode == 0 and "removed 1 container(s)" in done.stdout
    assert not docker_client.containers.list(all=True, filters={"label": "agentbench.run=crashed"})
    listed = agentbench("images", "list")
    assert listed.returncode == 0 and python_image.split(":")[1] in listed.stdout


@pytest.mark.docker  # `run` connects to the engine before it checks the rest
def test_a_self_hosted_model_without_enough_gpus_stops_before_any_work():
    done = agentbench("run", "--model", "llama3-70b", "--suite", TINY, env={"AGENTBENCH_GPUS": "0"})
    assert done.returncode == 2
    assert done.stderr.strip() == (
        "error: Model profile 'llama3-70b' needs 4 GPU(s) to serve and this machine has 0; "
        "point it at a running server instead with --base-url (make: BASE_URL=http://host:8000/v1).")


def test_limit_takes_the_first_tasks_of_the_suites():
    done = agentbench("run", "--model", "oracle", "--suite", "multistep", "--limit", "3", "--epochs", "2", "--estimate")
    assert done.returncode == 0, done.stderr
    assert "forecast for 6 attempt(s)" in done.stdout


def test_a_base_url_that_is_not_openai_compatible_stops_the_run_in_seconds_naming_what_it_answered():
    from agentbench.models.chat_server import ChatServer, Reply

    with ChatServer(lambda request, route: Reply(content="ok")) as server:
        started = time.monotonic()
        done = agentbench("run", "--model", "llama3-8b", "--suite", str(FIXTURES / "tiny"), "--base-url", server.root)
    assert done.returncode == 2 and time.monotonic() - started < 30
    assert (f"Endpoint {server.root} for model 'llama3-8b' is not OpenAI-compatible: GET {server.root}/models answered HTTP 404 "
            f"and POST {server.root}/chat/completions answered HTTP 404; an OpenAI-compatible base URL usually ends in /v1 "
            f"({server.root}/v1).") in " ".join(done.stderr.split())


def test_an_unknown_profile_is_refused_before_the_runner_swebench_or_langgraph_is_imported():
    code = ("import sys\nfrom agentbench.cli import main\nsys.argv = ['agentbench', 'run', '--model', 'gpt-17']\n"
            "try:\n    main()\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in ('agentbench.runner', 'swebench', 'langgraph', 'docker') if m in sys.modules))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "Unknown model profile 'gpt-17'" in done.stderr and done.stdout.strip() == "[]", done.stdout + done.stderr


def test_reusing_a_run_name_with_other_settings_is_refused_unless_resumed(engine):
    from sqlmodel import Session
    from test_compare import store_run

    from agentbench.spec import RunSpec
    from agentbench.store import RunRow

    store_run(engine, "taken", {"tiny/add-numbers": True}, model="oracle")
    with Session(engine) as session:
        row = session.get(RunRow, "taken")
        row.spec_json = RunSpec(name="taken", models=["oracle"], suites=[str(FIXTURES / "tiny")]).model_dump_json()
        session.add(row)
        session.commit()
    done = agentbench("run", "--model", "noop", "--suite", str(FIXTURES / "tiny"), "--run", "taken")
    assert done.returncode == 2
    assert ("Run 'taken' exists with other settings (models ['oracle'] -> ['noop']); pass --resume taken to go on with "
            "its own, or choose another --run name.") in " ".join(done.stderr.split())


def test_a_run_whose_every_attempt_is_an_infrastructure_error_says_so_and_exits_1(engine, tmp_path):
    from agentbench.models.chat_server import ChatServer, Reply

    with ChatServer(lambda request, route: Reply(status=503)) as server:  # lists its models, answers no chat
        models = tmp_path / "models.yaml"
        models.write_text(f"down: {{provider: openai, model: scripted, base_url: '{server.url}', stream: false, "
                          "retry: {attempts: 1}}\n")
        done = agentbench("run", "--model", "down", "--models-file", str(models), "--suite", TINY, "--run", "all-lost")
    assert done.returncode == 1, done.stdout + done.stderr
    assert ("every attempt of down/fast ended in an infrastructure error (see the errors above), so its rate is "
            "unknown; fix the cause and resume with `agentbench run --resume all-lost`.") in " ".join(done.stderr.split())
