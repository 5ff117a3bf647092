"""`run --decide`: a sequential paired decision that stops a bake-off once it is decided,
calibrated by simulation and run for real on a suite."""

import json
import shutil

import pytest
from conftest import FIXTURES
from test_cli import agentbench

from agentbench.calibration import sequential_outcomes
from agentbench.sequential import ConfidenceSequence, decide, difference_interval, sequence_of, task_order, verdict


def test_the_sequence_never_loses_the_true_mean_more_often_than_alpha_however_often_it_is_looked_at():
    import numpy as np

    rng = np.random.default_rng(7)
    lost = 0
    for _ in range(300):
        truth = rng.uniform(0.2, 0.8)
        sequence = ConfidenceSequence(0.05)
        for x in rng.binomial(1, truth, size=300):
            sequence.add(float(x))
            low, high = sequence.interval()
            if not low <= truth <= high:
                lost += 1
                break
    assert lost / 300 <= 0.05 + 2 * (0.05 * 0.95 / 300) ** 0.5, lost


def test_identical_configurations_are_rarely_called_different_and_a_real_drop_is_found_for_a_fraction_of_the_spend():
    null = sequential_outcomes(tasks=300, runs=300, seed=11)
    assert null["verdicts"].get("better", 0) + null["verdicts"].get("worse", 0) <= 0.05 + 2 * (0.05 * 0.95 / 300) ** 0.5, null
    drop = sequential_outcomes(tasks=300, shift=-0.2, runs=200, seed=12)
    assert drop["verdicts"].get("worse", 0) >= 0.9 and drop["tasks_used"] < 0.5, drop
    same = sequential_outcomes(tasks=300, epochs=2, margin=0.1, runs=200, seed=13)
    assert same["verdicts"].get("equivalent", 0) >= 0.8 and same["verdicts"].get("worse", 0) + same["verdicts"].get("better", 0) <= 0.05


def test_the_order_is_seeded_by_the_run_and_a_report_sees_the_same_prefix_as_the_scheduler():
    tasks = [f"s/t{i}" for i in range(20)]
    order = task_order(tasks, "bake-off")
    assert order == task_order(list(reversed(tasks)), "bake-off") != task_order(tasks, "other-run")
    assert task_order(order[:5] + order[10:], "bake-off") == order[:5] + order[10:]  # a subset keeps its order

    def attempt(task, model, solved, status="graded"):
        return {"task": task, "model": model, "agent": "fast", "solved": solved, "status": status}
    done = [attempt(order[0], "a", True), attempt(order[0], "b", False), attempt(order[1], "a", True)]  # order[1] half done
    done += [attempt(order[2], "a", False), attempt(order[2], "b", True)]
    assert sequence_of(done, order, ("a/fast", "b/fast"), 1) == [-1.0]  # stops at the first task not done
    errors = [attempt(order[0], "a", False, "error"), attempt(order[0], "b", True)]
    assert sequence_of(errors, order, ("a/fast", "b/fast"), 1) == []  # a side with no graded epoch pairs nothing
    assert verdict((0.01, 0.2), None) == "better" and verdict((-0.04, 0.04), 0.05) == "equivalent"
    assert verdict((-0.05, 0.04), None) is None and decide([-1.0] * 9).verdict is None and decide([-1.0] * 12).tasks == 10
    sequence = ConfidenceSequence()
    sequence.add(0.5)
    assert difference_interval(sequence) == (-1.0, 1.0)


@pytest.mark.docker
@pytest.mark.usefixtures("python_image")
def test_a_decided_run_stops_scheduling_reports_its_decision_and_resumes_without_starting_more(tmp_path, engine):
    suite = tmp_path / "same"
    for i in range(4):
        shutil.copytree(FIXTURES / "tiny" / "add-numbers", suite / f"copy-{i}")
    done = agentbench("run", "--model", "noop", "--agent", "fast,minimal", "--suite", str(suite), "--run", "bake-off",
                      "--decide", "--decide-margin", "0.9", "--workers", "1", timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    report = json.loads(agentbench("report", "bake-off", "--json", "-").stdout)
    decision = report["decision"]
    assert decision["configs"] == ["noop/fast", "noop/minimal"] and decision["verdict"] == "equivalent"
    assert (decision["after_tasks"], decision["of_tasks"], decision["of_attempts"]) == (3, 4, 8)
    assert decision["attempts"] == len(report["attempts"]) == 6  # one worker: nothing ran past the decision
    assert "decided after 3 of 4 tasks: noop/minimal is equivalent to noop/fast" in " ".join(done.stdout.split())
    again = agentbench("run", "--resume", "bake-off", timeout=300)
    assert again.returncode == 0, again.stderr
    assert len(json.loads(agentbench("report", "bake-off", "--json", "-").stdout)["attempts"]) == 6
    three = agentbench("run", "--model", "noop,oracle", "--agent", "fast,minimal", "--suite", str(suite), "--decide")
    assert three.returncode == 2 and "--decide compares two configurations" in three.stderr
