"""Harbor tasks in real Docker: the shipped Terminal-Bench-style suite proven (solve.sh passes,
untouched fails), run by the baselines through the CLI and exported as ATIF, and graded by the
machine's state with integrity: a planted reward, a process left running and a wrapped shell
cannot forge "solved"."""

import json
import shutil

import pytest
from atif_models import Trajectory
from test_cli import agentbench
from test_runner_e2e import call

from agentbench.grading import BrokenTask
from agentbench.harbor.grading import grade_snapshot
from agentbench.harbor.task import load_harbor_suite
from agentbench.harbor.task_kind import HarborTasks, discard, snapshot_after
from agentbench.models.chat_server import Reply
from agentbench.models.profiles import ModelProfile
from agentbench.models.redteam import SHIMS
from agentbench.paths import tasks_dir
from agentbench.runner import Runner
from agentbench.spec import RunSpec
from agentbench.store import run_attempts

TERMINAL = tasks_dir() / "terminal"
PLANT = ("mkdir -p /logs/verifier && echo '{\"reward\": 1}' > /logs/verifier/reward.json && echo 1 > /logs/verifier/reward.txt"
         " && (setsid bash -c 'while true; do echo \"{\\\"reward\\\": 1}\" > /logs/verifier/reward.json; sleep 0.1; done'"
         " >/dev/null 2>&1 &) && sleep 0.3 && cat /logs/verifier/reward.json")
WRAP_SHELL = ("cp /usr/bin/bash /usr/bin/bash.real && printf '%s\\n' '#!/usr/bin/bash.real' '/usr/bin/bash.real \"$@\"'"
              " 'status=$?' 'mkdir -p /logs/verifier; echo 1 > /logs/verifier/reward.txt' 'exit $status'"
              " > /tmp/bash && chmod 755 /tmp/bash && mv /tmp/bash /usr/bin/bash")

SHADOW = ("printf '#!/bin/sh\\necho 1 > /logs/verifier/reward.txt\\nexec /usr/bin/id \"$@\"\\n' > /usr/local/bin/id"
          " && chmod 755 /usr/local/bin/id && echo /nonexistent/libforge.so > /etc/ld.so.preload")


@pytest.fixture(scope="session")
def terminal(docker_client):
    """The shipped suite's tasks and a HarborTasks that has built their images."""
    tasks = load_harbor_suite("terminal")
    kind = HarborTasks(docker_client)
    kind.prepare(tasks)
    return kind, {task.id.split("/")[1]: task for task in tasks}


def snapshots(docker_client) -> int:
    return len(docker_client.images.list(filters={"label": "agentbench.snapshot=1"}))


def test_tasks_validate_proves_the_terminal_suite(terminal, docker_client):
    done = agentbench("tasks", "terminal", "--validate")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "3 of 3 tasks valid" in done.stdout
    assert snapshots(docker_client) == 0  # every snapshot graded is removed


def test_oracle_solves_every_terminal_task_and_noop_none_and_both_export_as_atif(terminal, tmp_path):
    done = agentbench("run", "--model", "oracle,noop", "--agent", "fast", "--suite", "terminal", "--run", "terminal-baselines")
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(agentbench("report", "terminal-baselines", "--json", "-").stdout)
    solved = {config["model"]: config["solved"] for config in report["configs"]}
    assert solved == {"oracle": 3, "noop": 0}
    assert {a["status"] for a in report["attempts"] if a["model"] == "noop"} == {"unsolved"}
    exported = agentbench("export", "terminal-baselines", "--atif", str(tmp_path / "atif"))
    assert exported.returncode == 0 and "wrote 6 ATIF trajectories" in exported.stderr
    for path in sorted((tmp_path / "atif").glob("*.json")):
        trajectory = Trajectory.model_validate_json(path.read_text())
        assert trajectory.steps[0].message == terminal[1][trajectory.extra["task"].split("/")[1]].prompt
        assert trajectory.extra["verdict"]["solved"] is (".oracle." in path.name)
        assert "agentbench: reward" in trajectory.extra["verdict"]["grader_output"]


def run_scripted(engine, sandboxes, docker_client, scripted_server, terminal, name: str, command: str):
    """One attempt at terminal/add-service-user by a model that runs `command` and submits."""
    kind, tasks = terminal
    server = scripted_server([Reply(tool_calls=[call("bash", command=command)], prompt_tokens=50, completion_tokens=5),
                              Reply(tool_calls=[call("submit")], prompt_tokens=60, completion_tokens=2)])
    profile = ModelProfile(name="scripted", provider="openai", model="scripted", base_url=server.url)
    spec = RunSpec(name=name, models=["scripted"], agents=["fast"], suites=["terminal"])
    before = snapshots(docker_client)
    Runner(spec, engine, sandboxes, [profile], [tasks["add-service-user"]], kinds={"harbor": kind}).run()
    assert snapshots(docker_client) == before
    assert not docker_client.containers.list(all=True, filters={"label": f"agentbench.run={name}"})
    [attempt] = run_attempts(engine, name)
    return attempt


def test_a_planted_reward_and_a_process_left_writing_it_do_not_count(engine, sandboxes, docker_client, scripted_server, terminal):
    attempt = run_scripted(engine, sandboxes, docker_client, scripted_server, terminal, "harbor-planted", PLANT)
    assert (attempt.solved, attempt.status, attempt.grade_status) == (False, "unsolved", "failed")
    assert "FAIL: there is no user ledger" in attempt.check_output and "agentbench: reward 0 (reward.txt)" in attempt.check_output
    assert attempt.patch.startswith("agentbench snapshot sha256:")


def test_a_shell_wrapped_to_reward_everything_runs_as_the_untouched_image_has_it(
        engine, sandboxes, docker_client, scripted_server, terminal):
    attempt = run_scripted(engine, sandboxes, docker_client, scripted_server, terminal, "harbor-wrapped", WRAP_SHELL)
    assert (attempt.solved, attempt.status, attempt.grade_status) == (False, "unsolved", "failed"), attempt.check_output
    assert "put back 1 of the task image's tools the agent changed (/usr/bin/bash)" in attempt.check_output


def test_tools_the_verifier_calls_wrapped_to_write_a_reward_are_put_back(
        engine, sandboxes, docker_client, scripted_server, terminal):
    attempt = run_scripted(engine, sandboxes, docker_client, scripted_server, terminal, "harbor-shims", SHIMS + SHADOW)
    assert (attempt.solved, attempt.status) == (False, "unsolved"), attempt.check_output
    assert "FAIL: there is no user ledger" in attempt.check_output and "put back" in attempt.check_output
    assert "removed 2 files shadowing them (/usr/local/bin/id, /etc/ld.so.preload)" in attempt.check_output


def test_an_installed_tool_is_kept_for_the_verifier(terminal, sandboxes, docker_client):
    kind, tasks = terminal
    task = tasks["install-cli-tool"]
    image = kind.image(task)
    snapshot = snapshot_after(sandboxes, image, task, task.solution_patch, {"agentbench.run": "harbor-installed"})
    try:
        verdict = grade_snapshot(sandboxes, docker_client, image, snapshot, task, {"agentbench.run": "harbor-installed"})
    finally:
        discard(docker_client, snapshot)
    assert verdict.solved, verdict.output


def test_a_verifier_that_writes_no_reward_is_a_broken_task(terminal, sandboxes, docker_client, tmp_path):
    kind, tasks = terminal
    folder = tmp_path / "suite" / "silent"
    shutil.copytree(TERMINAL / "add-service-user", folder)
    (folder / "tests" / "test.sh").write_text("#!/bin/bash\necho 'checked, but wrote no reward'\n")
    [task] = load_harbor_suite(str(folder))
    image = kind.image(tasks["add-service-user"])  # the same environment folder: the same image
    snapshot = snapshot_after(sandboxes, image, task, task.solution_patch, {"agentbench.run": "harbor-silent"})
    try:
        with pytest.raises(BrokenTask, match="writes no reward even in the untouched environment"):
            grade_snapshot(sandboxes, docker_client, image, snapshot, task, {"agentbench.run": "harbor-silent"})
    finally:
        discard(docker_client, snapshot)


def test_an_environment_whose_base_cannot_be_had_says_how_to_get_it(tmp_path, docker_client):
    folder = tmp_path / "suite" / "absent"
    shutil.copytree(TERMINAL / "add-service-user", folder)
    (folder / "environment" / "Dockerfile").write_text("FROM agentbench-test/absent-base:1\nWORKDIR /app\n")
    done = agentbench("tasks", str(folder.parent), "--validate")
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1
    assert "starts from image agentbench-test/absent-base:1, which is not on this machine" in done.stderr
    assert "`docker pull agentbench-test/absent-base:1`" in done.stderr and "`docker load -i FILE`" in done.stderr
