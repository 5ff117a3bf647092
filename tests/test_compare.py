"""`agentbench compare` and `report --csv` over runs in a real SQLite store."""

import csv
import io
import json
import os
import subprocess
import sys

import pytest
from sqlmodel import Session, select
from test_cli import agentbench

from agentbench.store import AttemptRow, RunRow, StepRow, attempt_id, get_run, list_runs, run_attempts, utcnow


def store_run(engine, name, solved_by_task, model="m", agent="fast", cost=0.01, labels=None):
    with Session(engine) as session:
        session.add(RunRow(name=name, spec_json="{}", agentbench_version="test", status="completed",
                           labels_json=json.dumps(labels or {})))
        for task, solved in solved_by_task.items():
            session.add(AttemptRow(
                id=attempt_id(name, task, model, agent, 0), run=name, task=task, model=model, agent=agent, epoch=0,
                solved=solved, status="solved" if solved else "unsolved", stop_reason="submitted",
                grade_status="passed" if solved else "failed", wall_s=2.0, prompt_tokens=100, completion_tokens=10,
                cost_usd=cost, started_at=utcnow(),
            ))
        session.commit()


TASKS = [f"suite/t{i}" for i in range(8)]


def test_compare_exits_1_on_a_significant_regression_and_names_the_tasks(engine):
    store_run(engine, "base", {t: True for t in TASKS})
    store_run(engine, "cand", {t: i >= 6 for i, t in enumerate(TASKS)}, cost=0.02)
    done = agentbench("compare", "base", "cand")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "regression: cand solves significantly fewer tasks than base" in done.stderr
    assert "regressed (m/fast): suite/t0, suite/t1, suite/t2, suite/t3, suite/t4, suite/t5" in done.stdout
    assert "0.0157" in done.stdout  # one-sided: 6 regressed, 0 improved -> 1 / 2**6, within the permutations' error


def test_compare_exits_0_on_an_identical_rerun_and_on_a_small_dip(engine):
    store_run(engine, "base", {t: True for t in TASKS})
    store_run(engine, "rerun", {t: True for t in TASKS})
    store_run(engine, "dip", {t: t != TASKS[0] for t in TASKS})
    assert agentbench("compare", "base", "rerun").returncode == 0
    dip = agentbench("compare", "base", "dip")
    assert dip.returncode == 0 and "regressed (m/fast): suite/t0" in dip.stdout


def test_two_configurations_of_one_run_are_compared_by_name_and_wrong_names_are_one_sentence(engine):
    store_run(engine, "matrix", {t: True for t in TASKS}, model="big")
    store_run(engine, "matrix-small", {t: i >= 7 for i, t in enumerate(TASKS)}, model="small")
    with Session(engine) as session:  # fold the second configuration into the first run
        for row in session.exec(select(AttemptRow).where(AttemptRow.run == "matrix-small")).all():
            session.add(AttemptRow(**{**row.model_dump(), "id": row.id + "-moved", "run": "matrix"}))
            session.delete(row)
        session.commit()
    done = agentbench("compare", "matrix", "matrix", "--baseline-config", "big/fast", "--candidate-config", "small/fast")
    assert done.returncode == 1, done.stdout + done.stderr
    assert "regressed (small/fast): " + ", ".join(TASKS[:7]) in " ".join(done.stdout.split())
    same = agentbench("compare", "matrix", "matrix")
    assert same.returncode == 2 and "name them with --baseline-config MODEL/AGENT" in " ".join(same.stderr.split())
    wrong = agentbench("compare", "matrix", "matrix", "--baseline-config", "big/fast", "--candidate-config", "tiny/fast")
    assert wrong.returncode == 2 and "--candidate-config 'tiny/fast' is not a configuration of run 'matrix'; it has big/fast, small/fast" in " ".join(wrong.stderr.split())
    half = agentbench("compare", "matrix", "matrix", "--baseline-config", "big/fast")
    assert half.returncode == 2 and "Give both --baseline-config and --candidate-config" in half.stderr


def test_the_gate_over_several_configurations_holds_its_level_for_them_together():
    from agentbench.comparison import comparisons, significant_regression

    def rows(model, solved):
        return [{"task": t, "model": model, "agent": "fast", "solved": s, "status": "solved" if s else "unsolved", "cost_usd": 0.0}
                for t, s in zip(TASKS, solved)]
    five_lost = [False] * 5 + [True] * 3  # 1/32 alone; over three configurations Holm makes it 3/32
    base = rows("a", [True] * 8) + rows("b", [True] * 8) + rows("c", [True] * 8)
    cand = rows("a", five_lost) + rows("b", [True] * 8) + rows("c", [True] * 8)
    results = comparisons(base, cand)
    first = next(r for r in results if r["baseline"] == "a/fast")
    assert first["p_value"] < 0.05 and first["p_adjusted"] == pytest.approx(3 * first["p_value"])
    assert not any(significant_regression(r, 0.05) for r in results)
    [alone] = comparisons(rows("a", [True] * 8), rows("a", five_lost))
    assert significant_regression(alone, 0.05)


def test_compare_of_runs_without_a_shared_configuration(engine):
    store_run(engine, "a", {"t": True}, model="x")
    store_run(engine, "b", {"t": True}, model="y")
    one = agentbench("compare", "a", "b")  # their only configurations are compared, on a task too few to decide
    assert one.returncode == 3 and "cannot decide: x/fast vs y/fast: 1 paired task(s)" in " ".join(one.stderr.split())
    store_run(engine, "c", {"t": True}, model="y", agent="deliberate")
    store_run(engine, "c2", {"t": True}, model="z")
    with Session(engine) as session:
        session.add(AttemptRow(id="extra", run="c", task="t", model="q", agent="fast", epoch=0, solved=True,
                               status="solved", stop_reason="submitted", started_at=utcnow()))
        session.commit()
    done = agentbench("compare", "c", "c2")
    assert done.returncode == 2 and "share no (model, agent) configuration" in done.stderr


def test_compare_of_runs_with_no_task_in_common_is_an_error_and_a_total_collapse_on_five_tasks_fails(engine):
    store_run(engine, "left", {"suite/a": True})
    store_run(engine, "right", {"suite/b": True})
    done = agentbench("compare", "left", "right")
    assert done.returncode == 2 and "graded no task in common" in done.stderr
    store_run(engine, "all", {t: True for t in TASKS[:5]})
    store_run(engine, "none", {t: False for t in TASKS[:5]})
    collapse = agentbench("compare", "all", "none")
    assert collapse.returncode == 1, collapse.stdout + collapse.stderr  # 1/32 one-sided: below 0.05


def test_report_csv_has_one_row_per_attempt(engine):
    store_run(engine, "base", {t: True for t in TASKS})
    rows = list(csv.DictReader(io.StringIO(agentbench("report", "base", "--csv", "-").stdout)))
    assert len(rows) == len(TASKS)
    assert rows[0]["task"] == "suite/t0" and rows[0]["solved"] == "True" and rows[0]["cost_usd"] == "0.01"


def test_load_gives_a_dataframe_of_attempts(engine):
    import agentbench

    store_run(engine, "base", {t: i < 3 for i, t in enumerate(TASKS)})
    frame = agentbench.load("base")
    assert len(frame) == len(TASKS)
    assert frame["solved"].sum() == 3
    assert set(frame["run"]) == {"base"} and frame["cost_usd"].sum() == pytest.approx(0.01 * len(TASKS))


def test_the_report_prints_deviations_and_flagged_attempts(engine):
    store_run(engine, "flagged", {"pallets__flask-1": True})
    with Session(engine) as session:
        run = session.get(RunRow, "flagged")
        run.notes_json = '["old__repo-1: swebench specifies Python 3.6; no Debian release ships it, so Python 3.9 (bullseye) is used"]'
        attempt = session.get(AttemptRow, attempt_id("flagged", "pallets__flask-1", "m", "fast", 0))
        attempt.flags = "history_lookup"
        session.add_all([run, attempt])
        session.commit()
    done = agentbench("report", "flagged")
    assert "note: old__repo-1: swebench specifies Python 3.6" in done.stdout
    assert "flagged: pallets__flask-1 m/fast#0 (history_lookup)" in done.stdout
    document = agentbench("report", "flagged", "--json", "-").stdout
    assert '"history_lookup"' in document and "Python 3.9 (bullseye) is used" in document


def test_compare_names_the_configurations_it_could_not_pair(engine):
    store_run(engine, "old", {t: True for t in TASKS})
    store_run(engine, "new", {t: True for t in TASKS})
    with Session(engine) as session:  # a second configuration, in the candidate run only
        session.add(AttemptRow(id="other", run="new", task=TASKS[0], model="other", agent="minimal", epoch=0, solved=False,
                               status="unsolved", stop_reason="submitted", started_at=utcnow()))
        session.commit()
    done = agentbench("compare", "old", "new")
    assert done.returncode == 0, done.stderr
    assert "warning: not compared (only in candidate run new): other/minimal" in done.stderr
    assert "only in baseline" not in done.stderr


def test_reading_from_a_folder_without_a_store_says_where_it_looked_and_creates_nothing(engine, tmp_path):
    """`runs` or `report` run from the wrong folder must not open a new empty store and show nothing."""
    store_run(engine, "kept", {"suite/t": True})
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    clean = {key: value for key, value in os.environ.items() if key not in ("AGENTBENCH_DB", "AGENTBENCH_RESULTS")}
    for command in (["runs"], ["report", "kept"]):
        done = subprocess.run([sys.executable, "-m", "agentbench", *command], capture_output=True, text=True, cwd=elsewhere,
                              env=clean)
        assert done.returncode == 2, done.stdout + done.stderr
        assert done.stderr.startswith(f"error: No store at {elsewhere / 'results' / 'agentbench.db'}: run this in the folder")
    assert not any(elsewhere.iterdir())
    assert "kept" in agentbench("runs").stdout  # where the store is, it is read as before


def test_export_refuses_a_run_that_is_not_swebench(engine, tmp_path):
    store_run(engine, "folders", {"multistep/csv-totals": True})
    done = agentbench("export", "folders", "--predictions", str(tmp_path / "p.jsonl"))
    assert done.returncode == 2 and not (tmp_path / "p.jsonl").exists()
    assert "Run 'folders' is not a SWE-bench run (its suites: none); predictions files are for SWE-bench instances." in done.stderr


def test_delete_removes_a_run_and_all_it_recorded_after_asking(engine):
    store_run(engine, "gone", {"suite/t": True})
    store_run(engine, "stays", {"suite/t": True})
    with Session(engine) as session:
        session.add(StepRow(attempt_id=attempt_id("gone", "suite/t", "m", "fast", 0), index=0))
        session.commit()
    refused = subprocess.run([sys.executable, "-m", "agentbench", "runs", "delete", "gone"], input="n\n", capture_output=True, text=True)
    assert refused.returncode == 1 and get_run(engine, "gone")
    done = agentbench("runs", "delete", "gone", "--yes")
    assert done.returncode == 0 and "removed run gone (1 attempts)" in done.stderr
    assert [row.name for row in list_runs(engine)] == ["stays"] and len(run_attempts(engine, "stays")) == 1
    with Session(engine) as session:
        assert not session.exec(select(StepRow)).all()
