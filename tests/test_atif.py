"""Attempts exported as ATIF trajectories, validated against Harbor's own models of the format
(tests/atif_models.py) and read back: steps, tool calls, observations, tokens and dollars per
step, the verdict; and `agentbench export RUN --atif DIR` end to end on a stored run."""

import json
from datetime import datetime, timezone

import pytest
from atif_models import Trajectory
from conftest import FIXTURES
from test_cli import agentbench

from agentbench.atif import file_name, step_cost_usd, trajectory
from agentbench.contracts import Step
from agentbench.lock import suite_hash
from agentbench.models.profiles import ModelProfile
from agentbench.recorder import RunRecorder
from agentbench.spec import RunSpec
from agentbench.store import AttemptRow, StepRow, attempt_steps
from agentbench.tasks import load_suite

PRICED = ModelProfile(name="gpt", provider="openai", model="gpt-4o-mini",
                      prices={"input_per_mtok": 1.0, "cached_input_per_mtok": 0.5, "output_per_mtok": 2.0})
STARTED = datetime(2025, 3, 1, 12, 0, tzinfo=timezone.utc)


def attempt_row(**fields) -> AttemptRow:
    values = {"id": "v1|r|tiny/add-numbers|gpt|fast|0", "run": "r", "task": "tiny/add-numbers", "model": "gpt",
              "agent": "fast", "epoch": 0, "solved": True, "status": "solved", "stop_reason": "submitted",
              "grade_status": "passed", "check_output": "2 passed", "started_at": STARTED, "prompt_tokens": 300,
              "completion_tokens": 30, "cost_usd": 0.3}
    return AttemptRow(**{**values, **fields})


def step_row(index: int, try_number: int = 0, **fields) -> StepRow:
    values = {"attempt_id": "a", "try_number": try_number, "index": index, "content": "", "prompt_tokens": 100,
              "completion_tokens": 10, "created_at": datetime(2025, 3, 1, 12, 0, index)}  # naive, as SQLite hands UTC back
    return StepRow(**{**values, **fields})


def test_an_attempt_becomes_a_valid_trajectory_with_its_calls_results_tokens_and_dollars():
    steps = [
        step_row(0, content="Let me look.", cached_tokens=20, tool_calls_json=json.dumps(
            [{"name": "bash", "args": {"command": "ls"}}, {"name": "view", "args": {"path": "calc.py"}}]),
            tool_results_json=json.dumps(["exit code: 0\ncalc.py\n", "1  def add(a, b):"]), call_problem=""),
        step_row(1, tool_calls_json=json.dumps([{"name": "bash", "args": "{not json", "error": "invalid JSON"}]),
                 tool_results_json=json.dumps(["error: the arguments are not JSON"]), call_problem="invalid arguments"),
        step_row(2, tool_calls_json=json.dumps([{"name": "submit", "args": {}}]), phase="verify"),
    ]
    document = trajectory(attempt_row(), steps, "Fix add().", PRICED, "0.1.0")
    parsed = Trajectory.model_validate(json.loads(json.dumps(document)))  # as a file would carry it
    assert (parsed.schema_version, parsed.session_id, parsed.agent.name, parsed.agent.model_name) == (
        "ATIF-v1.6", "v1|r|tiny/add-numbers|gpt|fast|0", "agentbench-fast", "gpt-4o-mini")
    user, first, second, third = parsed.steps
    assert (user.source, user.message, user.timestamp) == ("user", "Fix add().", "2025-03-01T12:00:00+00:00")
    assert [(c.tool_call_id, c.function_name, c.arguments) for c in first.tool_calls] == [
        ("call_0_0", "bash", {"command": "ls"}), ("call_0_1", "view", {"path": "calc.py"})]
    assert [(r.source_call_id, r.content) for r in first.observation.results] == [
        ("call_0_0", "exit code: 0\ncalc.py\n"), ("call_0_1", "1  def add(a, b):")]
    assert (first.message, first.timestamp) == ("Let me look.", "2025-03-01T12:00:00+00:00")
    assert (first.metrics.prompt_tokens, first.metrics.completion_tokens, first.metrics.cached_tokens) == (100, 10, 20)
    assert first.metrics.cost_usd == pytest.approx((80 * 1.0 + 20 * 0.5 + 10 * 2.0) / 1e6)
    assert second.tool_calls[0].arguments == {"raw": "{not json"} and second.extra["call_problem"] == "invalid arguments"
    assert third.observation is None and third.extra["phase"] == "verify"
    assert parsed.final_metrics.model_dump(exclude_none=True) == {
        "total_prompt_tokens": 300, "total_completion_tokens": 30, "total_cached_tokens": 20,
        "total_cost_usd": pytest.approx((280 + 10 + 60) / 1e6), "total_steps": 4}
    assert parsed.extra["verdict"] == {"solved": True, "status": "solved", "stop_reason": "submitted",
                                       "grade_status": "passed", "grader_output": "2 passed"}
    assert parsed.notes is None


def test_unknown_tokens_stay_unknown_and_earlier_tries_are_left_out_but_counted():
    steps = [step_row(0, try_number=0), step_row(0, try_number=1), step_row(1, try_number=1, usage_reported=False)]
    attempt = attempt_row(infra_retries=1, retry_tokens=110, retry_cost_usd=0.1, cost_usd=None, unreported_calls=1)
    parsed = Trajectory.model_validate(trajectory(attempt, steps, None, None, "0.1.0"))
    assert len(parsed.steps) == 3 and "was not at hand" in parsed.steps[0].message
    assert parsed.steps[2].metrics is None  # the server did not say: no tokens, no dollars, never zeros
    assert parsed.final_metrics.model_dump(exclude_none=True) == {"total_steps": 3}
    assert "1 earlier tries" in parsed.notes and (parsed.extra["retry_tokens"], parsed.extra["retry_cost_usd"]) == (110, 0.1)


def test_a_step_s_dollars_are_its_tokens_at_token_prices_else_its_share_of_the_attempt():
    step = step_row(0, prompt_tokens=100, completion_tokens=10)
    assert step_cost_usd(step, attempt_row(), PRICED) == pytest.approx(120 / 1e6)
    self_hosted = ModelProfile(name="llama", provider="vllm", model="meta/llama", prices={"gpu_hour": 2.0})
    assert step_cost_usd(step, attempt_row(cost_usd=0.33), self_hosted) == pytest.approx(0.33 * 110 / 330)
    assert step_cost_usd(step, attempt_row(cost_usd=None), self_hosted) is None
    assert step_cost_usd(step, attempt_row(cost_usd=0.0, prompt_tokens=0, completion_tokens=0), None) == 0.0


def test_file_names_are_safe_and_distinct():
    assert file_name(attempt_row()) == "tiny__add-numbers.gpt.fast.0.json"
    assert file_name(attempt_row(task="django__django-1234", model="a b/c", epoch=2)) == "django__django-1234.a-b__c.fast.2.json"


def stored_run(engine, name: str, same_suite: bool) -> str:
    """A run of the tiny suite as the runner stores one: spec, profiles, lock, steps, attempt."""
    tasks = load_suite(str(FIXTURES / "tiny"))
    recorder = RunRecorder(engine, name)
    spec = RunSpec(name=name, models=["gpt"], suites=[str(FIXTURES / "tiny")])
    recorder.start(spec.model_dump_json(), json.dumps({"gpt": PRICED.model_dump(mode="json", exclude={"name"})}))
    hashes = {t.id: t.content_hash if same_suite else "changed since" for t in tasks}
    recorder.write_lock({"suite": {"hash": suite_hash(hashes), "tasks": len(hashes)}})
    key = f"v1|{name}|tiny/add-numbers|gpt|fast|0"
    for index, tokens in enumerate((120, 80)):
        recorder.add_step(key, 0, Step(index=index, content=f"step {index}", tool_calls=[{"name": "bash", "args": {"command": "pytest"}}],
                                       tool_results=["exit code: 1"], prompt_tokens=tokens, completion_tokens=7))
    recorder.add_attempt(attempt_row(id=key, run=name, solved=False, status="unsolved", grade_status="failed",
                                     prompt_tokens=200, completion_tokens=14, cost_usd=228e-6))
    recorder.finish("completed")
    return key


def test_export_atif_writes_one_file_per_attempt_that_reads_back_as_stored(engine, tmp_path):
    key = stored_run(engine, "atif-run", same_suite=True)
    done = agentbench("export", "atif-run", "--atif", str(tmp_path / "out"))
    assert done.returncode == 0, done.stderr
    assert "wrote 1 ATIF trajectories" in done.stderr
    [path] = (tmp_path / "out").iterdir()
    parsed = Trajectory.model_validate_json(path.read_text())
    assert parsed.steps[0].message == load_suite(str(FIXTURES / "tiny"))[0].prompt
    stored = attempt_steps(engine, key)
    assert [(s.message, s.metrics.prompt_tokens, s.metrics.completion_tokens) for s in parsed.steps[1:]] == [
        (s.content, s.prompt_tokens, s.completion_tokens) for s in stored]
    assert [s.metrics.cost_usd for s in parsed.steps[1:]] == pytest.approx([134e-6, 94e-6])  # sums to the attempt's $228e-6
    assert (parsed.extra["verdict"]["status"], parsed.extra["cost_usd"]) == ("unsolved", 228e-6)


def test_a_run_whose_suite_changed_since_is_exported_without_prompts(engine, tmp_path):
    stored_run(engine, "atif-changed", same_suite=False)
    assert agentbench("export", "atif-changed", "--atif", str(tmp_path)).returncode == 0
    [path] = tmp_path.glob("*.json")
    assert "was not at hand" in Trajectory.model_validate_json(path.read_text()).steps[0].message


@pytest.mark.parametrize("flags", [[], ["--atif", "out", "--predictions", "p.jsonl"]], ids=["neither", "both"])
def test_export_takes_exactly_one_of_predictions_and_atif(engine, flags):
    stored_run(engine, "atif-flags", same_suite=True)
    done = agentbench("export", "atif-flags", *flags)
    assert done.returncode == 2
    assert done.stderr.strip() == ("error: Give exactly one of --predictions FILE (a SWE-bench run's patches) "
                                   "or --atif DIR (trajectories).")
