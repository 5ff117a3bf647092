"""The terminal report: every figure of the JSON report a person needs, readable at 100 columns."""

import numpy as np
import pytest
from rich.console import Console

from agentbench.report import build_report
from agentbench.store import AttemptRow, RunRow, utcnow
from agentbench.terminal_report import render_table, time_shares

WALLS = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 30.0]


def rows(model, solved_epochs, walls=WALLS):
    """Five tasks, two epochs each; `solved_epochs` per task: which epochs solved it."""
    made = []
    for index, wall in enumerate(walls):
        task, epoch = f"suite/t{index // 2}", index % 2
        solved = epoch in solved_epochs[index // 2]
        made.append(AttemptRow(id=f"{model}-{index}", run="r", task=task, model=model, agent="fast", epoch=epoch, solved=solved,
                               status="solved" if solved else "unsolved", stop_reason="submitted", wall_s=wall, model_s=wall / 2,
                               tool_s=wall / 4, grade_s=1.0, prompt_tokens=1000, completion_tokens=100, cost_usd=0.01,
                               started_at=utcnow()))
    return made


def rendered(report) -> str:
    console = Console(width=100, record=True)
    render_table(report, console)
    return console.export_text()


def test_the_tables_fit_100_columns_and_show_p90_pass_at_k_and_where_the_time_went():
    run = RunRow(name="r", spec_json="{}", agentbench_version="test", status="completed")
    report = build_report(run, rows("a-model-with-a-long-name", [{0, 1}, {0}, {1}, set(), {0, 1}]) + rows("other", [{0}] * 5))
    text = rendered(report)
    assert max(len(line) for line in text.splitlines()) <= 100
    p90 = np.percentile(WALLS, 90)
    assert f"/{p90:.1f} s" in text and "wall p50/p90" in text  # 11.1 s
    config = report["configs"][0]
    assert config["pass_at_k"]["2"] == 0.8 and config["pass_hat_k"]["2"] == 0.4  # 4 of 5 tasks solved at least once, 2 of 5 twice
    line = next(line for line in text.splitlines() if line.startswith(" a-model-with-a-long-name/fast") and "80%" in line)
    assert line.split()[-3:] == ["60%", "80%", "40%"]  # pass@1, pass@2, pass^2
    assert "grading" in text and "harness" in text


def test_time_shares_add_up_and_nothing_timed_is_a_dash():
    breakdown = {"model_s": 6.0, "tools_s": 2.0, "grading_s": 10.0, "queue_s": 0.0, "harness_s": 2.0}
    assert time_shares(breakdown) == ["30%", "10%", "50%", "0%", "10%"]
    assert time_shares(dict.fromkeys(breakdown, 0.0)) == ["-"] * 5


def test_a_single_epoch_run_has_no_pass_table_and_model_names_are_not_markup():
    run = RunRow(name="r", spec_json="{}", agentbench_version="test", status="completed")
    text = rendered(build_report(run, [row for row in rows("[red]m[/red]", [{0}] * 5) if row.epoch == 0]))
    assert "pass@" not in text and "[red]m[/red]/fast" in text


def test_pass_at_k_over_unequal_epochs_says_how_many_tasks_each_k_covers():
    run = RunRow(name="r", spec_json="{}", agentbench_version="test", status="completed")
    report = build_report(run, rows("m", [{0}, {0, 1}, {1}], walls=WALLS[:5]))  # epochs 2, 2 and 1
    assert report["configs"][0]["pass_k_tasks"] == {"1": 3, "2": 2}
    assert report["configs"][0]["pass_at_k"]["2"] == 1.0 and report["configs"][0]["rate"] == pytest.approx((0.5 + 1 + 0) / 3)  # not 3/5 solved
    assert "m/fast at k=2: 2 of 3 tasks" in " ".join(rendered(report).split())


def test_grader_log_excerpts_start_at_a_line_and_keep_pytest_summary():
    from agentbench.grading import log_tail
    from agentbench.report import trajectory_text

    log = "".join(f"tests/test_x.py::test_{n:04d} PASSED [{n % 100:3d}%]\n" for n in range(300)) + "===== 300 passed in 1.23s =====\n"
    tail = log_tail(log, 2000)
    marker, first, *_ = tail.splitlines()
    assert marker == f"[{len(log) - len(tail) + len(marker) + 1} earlier characters left out]"
    assert first.startswith("tests/test_x.py::test_") and first in log.splitlines() and tail.endswith("===== 300 passed in 1.23s =====\n")
    assert log_tail("short\n", 2000) == "short\n" and log_tail("x" * 50, 10) == "[40 earlier characters left out]\n" + "x" * 10
    attempt = AttemptRow(id="a", run="r", task="t", model="m", agent="fast", epoch=0, solved=True, status="solved",
                         stop_reason="submitted", grade_status="passed", check_output=log, started_at=utcnow())
    shown = trajectory_text(attempt, [])
    assert "  | ===== 300 passed in 1.23s =====" in shown and "earlier characters left out" in shown


def test_attempts_spread_over_nodes_get_a_table_of_where_they_ran_and_one_node_none():
    run = RunRow(name="r", spec_json="{}", agentbench_version="test", status="completed")
    spread = rows("m", [{0, 1}] * 5)
    for index, row in enumerate(spread):
        row.node = "host-a:1" if index < 4 else "host-b:2"  # walls 1+2+3+4 = 10 s of 75 s on host-a
    text = rendered(build_report(run, spread))
    assert "where attempts ran" in text
    assert next(line for line in text.splitlines() if line.startswith(" host-a:1")).split()[1:] == ["4", "4", "10.0", "s", "13%"]
    assert "where attempts ran" not in rendered(build_report(run, rows("m", [{0}] * 5)))
