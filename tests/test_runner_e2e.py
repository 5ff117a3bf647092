"""Whole attempts in real Docker against a scripted model over real HTTP."""

import json

import pytest
from conftest import FIXTURES
from sqlmodel import Session, select

from agentbench.contracts import Budget
from agentbench.grading import GraderError
from agentbench.models.chat_server import Reply, ToolCall
from agentbench.models.profiles import ModelProfile, get_profile, load_profiles
from agentbench.report import build_report
from agentbench.runner import Runner
from agentbench.sandbox.docker import DockerSandboxes
from agentbench.spec import RunSpec
from agentbench.store import StepRow, get_run, run_attempts
from agentbench.task_kinds import FolderTasks
from agentbench.tasks import load_suite

FIXED = '"""Arithmetic helpers."""\n\n\ndef add(a, b):\n    """Return the sum of a and b."""\n    return a + b\n'


def run_scripted(engine, docker_client, server, name, budget=Budget(), agent="fast", profile_fields=None):
    profile = ModelProfile(name="scripted", provider="openai", model="scripted", base_url=server.url, **(profile_fields or {}))
    spec = RunSpec(name=name, models=["scripted"], agents=[agent], suites=[str(FIXTURES / "tiny")], budget=budget)
    Runner(spec, engine, DockerSandboxes(docker_client), [profile], load_suite(str(FIXTURES / "tiny"))).run()
    assert not docker_client.containers.list(all=True, filters={"label": f"agentbench.run={name}"})
    [attempt] = run_attempts(engine, name)
    return attempt


def call(name, **arguments):
    return ToolCall(name, arguments)


def test_a_correct_fix_is_solved_and_tokens_match_usage(engine, docker_client, python_image, scripted_server):
    server = scripted_server([
        Reply(tool_calls=[call("view", path="calc.py")], prompt_tokens=100, completion_tokens=10),
        Reply(tool_calls=[call("create_file", path="calc.py", content=FIXED)], prompt_tokens=200, completion_tokens=20),
        Reply(tool_calls=[call("bash", command="python3 -c 'import calc; print(calc.add(2, 3))'")], prompt_tokens=300, completion_tokens=30),
        Reply(tool_calls=[call("submit")], prompt_tokens=400, completion_tokens=40),
    ])
    attempt = run_scripted(engine, docker_client, server, "e2e-fixed")
    assert (attempt.solved, attempt.status, attempt.stop_reason) == (True, "solved", "submitted")
    assert "+    return a + b" in attempt.patch
    assert (attempt.prompt_tokens, attempt.completion_tokens, attempt.steps) == (1000, 100, 4)
    with Session(engine) as session:
        steps = session.exec(select(StepRow).order_by(StepRow.index)).all()
    assert [s.tool_calls[0]["name"] for s in steps] == ["view", "create_file", "bash", "submit"]
    assert "    5      \"\"\"Return the sum of a and b.\"\"\"" in steps[0].tool_results[0]
    assert steps[2].tool_results[0] == "exit code: 0\n5\n"
    report = build_report(get_run(engine, "e2e-fixed"), run_attempts(engine, "e2e-fixed"))
    [config] = report["configs"]
    assert (config["solved"], config["prompt_tokens"], config["completion_tokens"]) == (1, 1000, 100)
    assert report["attempts"][0]["task"] == "tiny/add-numbers"


def test_a_wrong_fix_is_not_solved(engine, docker_client, python_image, scripted_server):
    wrong = FIXED.replace("a + b", "a * b")
    server = scripted_server([Reply(tool_calls=[call("create_file", path="calc.py", content=wrong)]), Reply(tool_calls=[call("submit")])])
    attempt = run_scripted(engine, docker_client, server, "e2e-wrong")
    assert (attempt.solved, attempt.status, attempt.grade_status) == (False, "unsolved", "failed")
    assert "6 == 5" in attempt.check_output


def test_reading_or_editing_hidden_tests_cannot_change_the_verdict(engine, docker_client, python_image, scripted_server):
    passing = "def test_add_positive():\n    pass\n\n\ndef test_add_negative():\n    pass\n"
    force_pass = ("import pytest\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
                  "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")
    server = scripted_server([
        Reply(tool_calls=[call("bash", command="ls -R /grader; cat /grader/tests/*.py")]),
        Reply(tool_calls=[call("create_file", path="/grader/tests/test_add_numbers.py", content=passing)]),
        Reply(tool_calls=[call("create_file", path="conftest.py", content=force_pass)]),
        Reply(tool_calls=[call("create_file", path="pytest.py", content="import sys\nsys.exit(0)\n")]),
        Reply(tool_calls=[call("create_file", path="pytest.ini", content="[pytest]\naddopts = --collect-only\n")]),
        Reply(tool_calls=[call("submit")]),
    ])
    attempt = run_scripted(engine, docker_client, server, "e2e-cheat")
    with Session(engine) as session:
        first = session.exec(select(StepRow).where(StepRow.index == 0)).one()
    assert "No such file or directory" in first.tool_results[0]
    assert "conftest.py" in attempt.patch and "/grader" not in attempt.patch
    assert (attempt.solved, attempt.status, attempt.grade_status) == (False, "tampered", "tampered")  # its hook is seen


def test_malformed_and_unknown_tool_calls_are_answered_and_the_attempt_goes_on(engine, docker_client, python_image, scripted_server):
    server = scripted_server([
        Reply(tool_calls=[ToolCall("create_file", '{"path": "calc.py", "content": ')]),
        Reply(tool_calls=[call("rm_rf", path="/")]),
        Reply(tool_calls=[call("bash")]),
        Reply(tool_calls=[call("create_file", path="calc.py", content=FIXED)]),
        Reply(tool_calls=[call("submit")]),
    ])
    attempt = run_scripted(engine, docker_client, server, "e2e-malformed")
    assert attempt.solved and attempt.steps == 5
    results = [json.loads(r.tool_results_json)[0] for r in _steps(engine)[:3]]
    assert results[0].startswith("Error: the arguments of create_file are not valid JSON")
    assert results[1].startswith("Error: unknown tool 'rm_rf'")
    assert results[2].startswith("Error: bad arguments for bash")
    tool_messages = [m for m in server.requests[-1]["messages"] if m["role"] == "tool"]
    assert len(tool_messages) == 4


def _steps(engine):
    with Session(engine) as session:
        return session.exec(select(StepRow).order_by(StepRow.index)).all()


def test_step_budget_stops_the_attempt(engine, docker_client, python_image, scripted_server):
    server = scripted_server([Reply(tool_calls=[call("bash", command="true")])] * 10)
    attempt = run_scripted(engine, docker_client, server, "e2e-steps", budget=Budget(steps=3))
    assert (attempt.stop_reason, attempt.steps, attempt.solved) == ("step_limit", 3, False)


def test_wall_clock_limit_stops_the_attempt(engine, docker_client, python_image, scripted_server):
    server = scripted_server([Reply(tool_calls=[call("bash", command="sleep 60")])])
    attempt = run_scripted(engine, docker_client, server, "e2e-time", budget=Budget(seconds=3))
    assert attempt.stop_reason == "time_limit"
    assert attempt.wall_s < 20


def test_a_failing_endpoint_is_a_model_error_not_an_agent_failure(engine, docker_client, python_image, scripted_server):
    server = scripted_server([Reply(status=500)] * 5)
    attempt = run_scripted(engine, docker_client, server, "e2e-model-error", profile_fields={"retry": {"attempts": 3, "initial_wait_s": 0.01}})
    assert (attempt.status, attempt.stop_reason, attempt.grade_status) == ("error", "model_error", None)
    assert "Error code: 500" in attempt.detail
    assert "the endpoint answered no call since, and not this attempt's first request again after a pause either (HTTP 500)" in attempt.detail


def test_an_endpoint_that_fails_only_this_conversation_fails_the_configuration(engine, docker_client, python_image, scripted_server):
    """A hostile or broken model that answers others but errors on one conversation cannot
    hide the attempt as an infrastructure error: it is graded and counted in the rate."""
    server = scripted_server([Reply(tool_calls=[call("bash", command="true")]), Reply(status=500)])
    attempt = run_scripted(engine, docker_client, server, "e2e-model-failed", profile_fields={"retry": {"attempts": 2, "initial_wait_s": 0.01}})
    assert (attempt.status, attempt.stop_reason, attempt.grade_status) == ("unsolved", "model_failed", "failed")
    assert "the endpoint answered this attempt's first request again after a pause" in attempt.detail
    report = build_report(get_run(engine, "e2e-model-failed"), run_attempts(engine, "e2e-model-failed"))
    [config] = report["configs"]
    assert (config["errors"], config["solved"], config["rate"]) == (0, 0, 0.0)
    # the books: the run's streaming check and the probe are the harness's, and with the attempt's they make the bill
    books = report["harness"]
    assert [(c["purpose"], c["requests"]) for c in books["calls"]] == [
        ("does the server report usage in streams", 1), ("was the endpoint up after a failed call", 1)]
    billed = [sum(column) for column in zip(*server.billed)]
    assert [config["prompt_tokens"] + books["prompt_tokens"], config["completion_tokens"] + books["completion_tokens"]] == billed
    assert attempt.prompt_tokens > 0 and books["prompt_tokens"] > 0


def test_a_run_that_allows_the_network_gives_it_to_the_agent_and_records_it(engine, docker_client, python_image, scripted_server):
    server = scripted_server([Reply(tool_calls=[call("bash", command="cat /sys/class/net/eth0/operstate")]), Reply(tool_calls=[call("submit")])])
    profile = ModelProfile(name="scripted", provider="openai", model="scripted", base_url=server.url)
    spec = RunSpec(name="e2e-network", models=["scripted"], suites=[str(FIXTURES / "tiny")], network=True)
    Runner(spec, engine, DockerSandboxes(docker_client), [profile], load_suite(str(FIXTURES / "tiny"))).run()
    with Session(engine) as session:
        [step] = session.exec(select(StepRow).where(StepRow.index == 0)).all()
    assert step.tool_results[0] == "exit code: 0\nup\n"  # an interface only exists with the network on
    assert build_report(get_run(engine, "e2e-network"), run_attempts(engine, "e2e-network"))["notes"] == [
        "the agents' sandboxes could reach the network (--network)"]


class FlakyGrader(FolderTasks):
    """Task folders whose grader fails the first `failures` times it is asked."""

    def __init__(self, client, failures):
        super().__init__(client)
        self.failures = failures

    def grade(self, sandboxes, task, patch, labels):
        if self.failures:
            self.failures -= 1
            raise GraderError("the grader's container vanished")
        return super().grade(sandboxes, task, patch, labels)


@pytest.mark.parametrize("failures, outcome", [(1, ("solved", "submitted", 1)), (5, ("error", "grader_error", 1))])
def test_a_grader_failure_is_tried_again_then_recorded_as_the_grader_s(engine, docker_client, python_image, failures, outcome):
    profile = get_profile("oracle", load_profiles())
    spec = RunSpec(name=f"e2e-grader-{failures}", models=["oracle"], suites=[str(FIXTURES / "tiny")], infra_retries=1)
    kinds = {"folder": FlakyGrader(docker_client, failures)}
    Runner(spec, engine, DockerSandboxes(docker_client), [profile], load_suite(str(FIXTURES / "tiny")), kinds=kinds).run()
    [attempt] = run_attempts(engine, spec.name)
    assert (attempt.status, attempt.stop_reason, attempt.infra_retries) == outcome
    [config] = build_report(get_run(engine, spec.name), [attempt])["configs"]
    assert config["errors_by_kind"] == ({"grader_error": 1} if failures > 1 else {})


def test_every_try_s_tokens_and_steps_are_kept_when_the_harness_tries_again(engine, docker_client, python_image, scripted_server):
    server = scripted_server([
        Reply(tool_calls=[call("create_file", path="calc.py", content=FIXED)], prompt_tokens=1000, completion_tokens=30),
        Reply(tool_calls=[call("submit")], prompt_tokens=209, completion_tokens=4),
    ])
    profile = ModelProfile(name="scripted", provider="openai", model="scripted", base_url=server.url,
                           prices={"input_per_mtok": 1.0, "output_per_mtok": 10.0, "date": "2026-12-01"})
    spec = RunSpec(name="e2e-retry-spend", models=["scripted"], suites=[str(FIXTURES / "tiny")], infra_retries=1)
    kinds = {"folder": FlakyGrader(docker_client, 1)}
    Runner(spec, engine, DockerSandboxes(docker_client), [profile], load_suite(str(FIXTURES / "tiny")), kinds=kinds).run()
    [attempt] = run_attempts(engine, spec.name)
    assert (attempt.status, attempt.infra_retries) == ("solved", 1)
    assert (attempt.prompt_tokens, attempt.completion_tokens, attempt.retry_tokens) == (2418, 68, 1243)
    one_try = 1209 / 1e6 * 1.0 + 34 / 1e6 * 10.0
    assert attempt.cost_usd == pytest.approx(2 * one_try) and attempt.retry_cost_usd == pytest.approx(one_try)
    with Session(engine) as session:
        steps = session.exec(select(StepRow).where(StepRow.attempt_id == attempt.id)).all()
    assert sorted((s.try_number, s.index) for s in steps) == [(0, 0), (0, 1), (1, 0), (1, 1)]
    [config] = build_report(get_run(engine, spec.name), [attempt])["configs"]
    assert (config["retry_tokens"], config["retry_cost_usd"]) == (1243, pytest.approx(one_try))


def test_a_workspace_too_big_to_diff_is_the_agent_s_failure_and_a_history_look_up_is_seen(
        engine, docker_client, python_image, scripted_server):
    server = scripted_server([
        Reply(tool_calls=[call("bash", command="g=git; $g log --all --oneline")]),
        Reply(tool_calls=[call("bash", command="head -c 3000000 /dev/urandom | base64 > big.txt")]),
        Reply(tool_calls=[call("submit")]),
    ])
    attempt = run_scripted(engine, docker_client, server, "e2e-too-big")
    assert (attempt.solved, attempt.status, attempt.stop_reason, attempt.grade_status) == (False, "unsolved", "submitted", "patch_rejected")
    assert "larger than the most a patch may be" in attempt.check_output
    assert attempt.flags == "history_lookup"  # spelled through a variable: seen in git's own trace
    [config] = build_report(get_run(engine, "e2e-too-big"), [attempt])["configs"]
    assert (config["errors"], config["solved"], config["rate"]) == (0, 0, 0.0)


def test_a_hook_that_forces_passes_is_recorded_as_tampered(engine, docker_client, python_image, scripted_server):
    hook = "def pytest_pyfunc_call(pyfuncitem):\n    return True\n"
    server = scripted_server([
        Reply(tool_calls=[call("create_file", path="conftest.py", content=hook)]),
        Reply(tool_calls=[call("submit")]),
    ])
    attempt = run_scripted(engine, docker_client, server, "e2e-tampered")
    assert (attempt.solved, attempt.status, attempt.grade_status) == (False, "tampered", "tampered")
    assert "conftest.py (pytest_pyfunc_call)" in attempt.check_output
    report = build_report(get_run(engine, "e2e-tampered"), [attempt])
    [config] = report["configs"]
    assert (config["tampered"], config["solved"], config["errors"], config["rate"]) == (1, 0, 0, 0.0)


@pytest.mark.parametrize("kill", ["kill 1", "kill -9 -1"])
def test_an_agent_that_kills_its_own_container_fails_and_its_work_is_still_graded(
        engine, docker_client, python_image, scripted_server, kill):
    server = scripted_server([
        Reply(tool_calls=[call("create_file", path="calc.py", content=FIXED)]),
        Reply(tool_calls=[call("bash", command=kill)]),
        Reply(tool_calls=[call("bash", command="sleep 1; echo still here")]),
        Reply(tool_calls=[call("submit")]),
    ])
    attempt = run_scripted(engine, docker_client, server, f"e2e-killed-{kill[-2:].strip()}")
    assert (attempt.status, attempt.stop_reason, attempt.infra_retries) == ("solved", "sandbox_killed", 0), attempt.detail
    assert "ended from inside" in attempt.detail and "+    return a + b" in attempt.patch


def test_a_server_that_streams_without_usage_is_asked_unstreamed_from_the_first_call(engine, docker_client, python_image, scripted_server):
    """llama-cpp-python's server sends no usage in streams: the run finds out with one tiny request
    before any attempt, so every call's tokens are the server's own count, none unknown."""
    server = scripted_server([
        Reply(tool_calls=[call("create_file", path="calc.py", content=FIXED)], prompt_tokens=120, completion_tokens=12, stream_usage=False),
        Reply(tool_calls=[call("submit")], prompt_tokens=150, completion_tokens=5, stream_usage=False),
    ])
    attempt = run_scripted(engine, docker_client, server, "e2e-no-stream-usage")
    assert (attempt.solved, attempt.unreported_calls, attempt.prompt_tokens, attempt.completion_tokens) == (True, 0, 270, 17)
    probe, *calls = server.requests
    assert probe["stream"] is True and probe["max_tokens"] == 1
    assert len(calls) == 2 and not any(request.get("stream") for request in calls)
    lock = json.loads(get_run(engine, "e2e-no-stream-usage").lock_json)
    assert lock["models"]["scripted"]["server"]["streams_usage"] is False


def test_a_server_under_reporting_tokens_leaves_the_cost_unknown_not_cheap(engine, docker_client, python_image, scripted_server):
    server = scripted_server([
        Reply(tool_calls=[call("create_file", path="calc.py", content=FIXED)], prompt_tokens=0, completion_tokens=0),
        Reply(tool_calls=[call("submit")], prompt_tokens=0, completion_tokens=0),
    ])
    attempt = run_scripted(engine, docker_client, server, "e2e-cheap-usage",
                           profile_fields={"prices": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}})
    assert (attempt.solved, attempt.unreported_calls, attempt.cost_usd) == (True, 2, None)
    assert all("token counts set aside as unknown" in step.note for step in _steps(engine))
