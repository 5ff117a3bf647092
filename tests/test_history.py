"""Release tracking: runs labelled with a release, in release order, each change paired on shared tasks."""

import json

import pytest
from test_cli import agentbench
from test_compare import TASKS, store_run

from agentbench.cli.run_commands import parsed_labels
from agentbench.errors import UserError
from agentbench.history import release_history, release_order
from agentbench.spec import RunSpec


def records(run, solved_by_task, model="m", cost=0.01):
    return [{"task": task, "model": model, "agent": "fast", "epoch": 0, "solved": solved, "status": "solved" if solved else "unsolved",
             "wall_s": 2.0, "prompt_tokens": 100, "completion_tokens": 10, "cost_usd": cost, "retries": 0, "gpu_s": None,
             "model_s": 1.0, "queue_s": 0.0, "tool_s": 0.5, "grade_s": 0.3, "run": run}
            for task, solved in solved_by_task.items()]


def release(value, run, created_at, attempts, broken=()):
    return {"value": value, "run": run, "created_at": created_at, "attempts": attempts, "broken": set(broken)}


def test_releases_are_ordered_as_versions_or_else_naturally():
    assert release_order(["1.10.0", "1.9.0", "1.4.0", "1.4.0rc1"]) == ["1.4.0rc1", "1.4.0", "1.9.0", "1.10.0"]
    assert release_order(["beta-10", "beta-9", "alpha"]) == ["alpha", "beta-9", "beta-10"]


def test_each_release_is_paired_with_the_one_before_and_a_significant_drop_is_marked():
    everything = {t: True for t in TASKS}
    series = release_history([
        release("1.10.0", "r3", "2026-03-01", records("r3", {t: i >= 6 for i, t in enumerate(TASKS)})),  # 6 of 8 lost
        release("1.9.0", "r2", "2026-02-01", records("r2", everything) + records("r2", everything, model="m2")),
        release("1.8.0", "r1", "2026-01-01", records("r1", everything)),
    ], "release")
    assert [r["value"] for r in series["releases"]] == ["1.8.0", "1.9.0", "1.10.0"]
    first, second = series["configs"]
    assert first["config"] == "m/fast" and [p["release"] for p in first["points"]] == ["1.8.0", "1.9.0", "1.10.0"]
    r1, r2, r3 = first["points"]
    assert r1["change"] is None and r2["change"]["verdict"] == "unchanged" and r2["change"]["p_value"] == 1.0
    assert (r3["solved"], r3["graded"], r3["rate"]) == (2, 8, 0.25)
    assert r3["cost_per_solved_usd"] == pytest.approx(8 * 0.01 / 2) and r3["wall_s_per_solved"] == pytest.approx(8 * 2.0 / 2)
    change = r3["change"]
    assert (change["against"], change["tasks"], change["regressed"], change["improved"]) == ("1.9.0", 8, TASKS[:6], [])
    assert change["p_value"] == pytest.approx(1 / 2**6, abs=0.003)  # one-sided
    # three tests in both directions: Holm multiplies the smallest p by six, and 6/64 is not below 0.05
    assert change["p_adjusted"] == pytest.approx(6 / 2**6, abs=0.02) and change["verdict"] == "unchanged"
    assert r3["from_reference"]["against"] == "1.8.0" and r2["from_reference"] is r2["change"]  # tested once
    assert second["config"] == "m2/fast" and [p["change"] for p in second["points"]] == [None]  # only one release ran it
    assert series["reference"] == "1.8.0"


def test_a_drop_big_enough_for_the_family_is_marked_and_a_named_reference_is_used():
    everything = {t: True for t in TASKS}
    releases = [release("1.8.0", "r1", "2026-01-01", records("r1", everything)),
                release("1.9.0", "r2", "2026-02-01", records("r2", everything)),
                release("1.10.0", "r3", "2026-03-01", records("r3", dict.fromkeys(TASKS, False)))]
    r3 = release_history(releases, "release")["configs"][0]["points"][2]
    assert r3["change"]["verdict"] == "regressed" and r3["from_reference"]["verdict"] == "regressed"  # 6 x 1/256 < 0.05
    named = release_history(releases, "release", reference="1.9.0")
    assert named["reference"] == "1.9.0" and named["configs"][0]["points"][0]["from_reference"]["against"] == "1.9.0"
    with pytest.raises(UserError, match="--reference '2.0' is no release of these runs; they have 1.8.0, 1.9.0, 1.10.0"):
        release_history(releases, "release", reference="2.0")


def test_identical_releases_of_two_configurations_are_marked_no_more_often_than_alpha_over_the_series():
    from agentbench.calibration import history_marks

    rate = history_marks(releases=6, configs=2, tasks=100, runs=120, resamples=2000)
    assert rate <= 0.05 + 2 * (0.05 * 0.95 / 120) ** 0.5, rate


def test_a_release_run_twice_counts_its_newest_run_and_broken_tasks_are_left_out_of_the_pairing():
    lost = {t: i >= 6 for i, t in enumerate(TASKS)}
    series = release_history([
        release("1.0", "old", "2026-01-01", records("old", {t: True for t in TASKS})),
        release("1.1", "first-try", "2026-01-02", records("first-try", lost)),
        release("1.1", "second-try", "2026-01-03", records("second-try", lost), broken=TASKS[:5]),
    ], "release")
    assert series["left_out"] == ["first-try"] and [p["run"] for p in series["configs"][0]["points"]] == ["old", "second-try"]
    change = series["configs"][0]["points"][1]["change"]
    assert change["tasks"] == 3 and change["regressed"] == [TASKS[5]] and change["verdict"] == "unchanged"


def test_labels_are_key_value_and_a_wrong_one_is_one_sentence():
    assert parsed_labels(["release=1.4.0", "team = core"]) == {"release": "1.4.0", "team": "core"}
    with pytest.raises(UserError, match="--label 'release' is not KEY=VALUE"):
        parsed_labels(["release"])
    with pytest.raises(ValueError, match="needs a key of letters"):
        RunSpec(models=["oracle"], labels={"my release": "1"})


def test_history_prints_each_release_and_marks_the_regression(engine):
    store_run(engine, "r1", {t: True for t in TASKS}, labels={"release": "1.9.0"})
    store_run(engine, "r2", {t: i >= 6 for i, t in enumerate(TASKS)}, labels={"release": "1.10.0", "team": "core"})
    store_run(engine, "unlabelled", {t: False for t in TASKS})
    done = agentbench("history", "--label", "release")
    assert done.returncode == 0, done.stderr
    assert "m/fast by release" in done.stdout and "REGRESSED" in done.stdout and done.stdout.index("1.9.0") < done.stdout.index("1.10.0")
    series = json.loads(agentbench("history", "--label", "release", "--json", "-").stdout)
    assert [r["run"] for r in series["releases"]] == ["r1", "r2"]
    assert series["configs"][0]["points"][1]["change"]["verdict"] == "regressed"
    missing = agentbench("history", "--label", "sprint")
    assert missing.returncode == 2
    assert missing.stderr == ("error: No run carries the label 'sprint'; label runs as you make them, e.g. "
                              "`agentbench run ... --label sprint=1.4.0`.\n")
