"""`make bench`: its ratios are pure functions checked by hand, and the whole measurement runs."""

import json
from datetime import datetime, timedelta

import pytest
from conftest import FIXTURES

from agentbench.benchmark import (
    busy_share,
    concurrency_efficiency,
    main,
    overhead_share,
    ratio,
    target_met,
)
from agentbench.store import AttemptRow


def attempt(span_s, model_s, tool_s, grade_s):
    start = datetime(2026, 1, 1)
    return AttemptRow(id="x", run="r", task="t", model="m", agent="a", epoch=0, status="solved", stop_reason="submitted",
                      model_s=model_s, tool_s=tool_s, grade_s=grade_s, started_at=start,
                      finished_at=start + timedelta(seconds=span_s))


def test_ratio_is_of_medians():
    assert ratio([1.0, 9.0, 2.0], [1.0, 1.0, 4.0]) == 2.0


def test_overhead_share_is_time_outside_model_tools_and_grading():
    rows = [attempt(10, 4, 3, 2), attempt(10, 5, 2, 2.5)]  # 1 s and 0.5 s of harness time
    assert overhead_share(rows) == pytest.approx(1.5 / 20)


def test_concurrency_efficiency_is_w_fold_throughput():
    assert concurrency_efficiency({1: 32.0, 4: 10.0, 16: 4.0}) == {"1": 1.0, "4": 0.8, "16": 0.5}


def test_busy_share_is_busy_jiffies_over_all():
    assert busy_share((100, 400), (250, 600)) == 0.75
    assert busy_share((0, 0), (0, 0)) is None


def test_targets_compare_the_right_way():
    assert target_met("lifecycle_ratio", 1.3) and not target_met("lifecycle_ratio", 1.31)
    assert not target_met("overhead_share", 0.05) and target_met("overhead_share", 0.049)
    assert target_met("concurrency_efficiency_16", 0.8) and not target_met("concurrency_efficiency_16", 0.79)


@pytest.mark.usefixtures("python_image")
def test_bench_measures_everything_and_writes_bench_json(tmp_path, capsys):
    out = tmp_path / "bench.json"
    main(["--reps", "2", "--attempts", "2", "--workers", "1,2", "--latency", "0.2",
          "--oracle-suite", str(FIXTURES / "tiny"), "--cluster-slots", "1", "--out", str(out)])
    document = json.loads(out.read_text())
    assert 0 < document["lifecycle_ratio"] < 10 and 0 < document["exec_ratio"] < 10
    assert 0 < document["overhead_share"] < 1
    assert set(document["concurrency_efficiency"]) == {"1", "2"} and document["concurrency_efficiency"]["1"] == 1.0
    assert document["raw"]["concurrency"]["solved"] == {"1": 2, "2": 2}
    assert all(0 < share <= 1 for share in document["raw"]["concurrency"]["cpu_busy"].values())
    assert [row["solved"] for row in document["raw"]["oracle"]] == [True]
    assert len(document["raw"]["lifecycle"]["harness_s"]) == 2
    assert document["targets"]["concurrency_efficiency_16"]["met"] is None  # 16 workers were not measured
    assert set(document["startup_ratio"]) == {"--help", "models", "report"}
    assert all(0 < value < 20 for value in document["startup_ratio"].values())
    assert len(document["raw"]["startup_s"]["baseline"]) == 3
    cluster = document["raw"]["cluster"]["nodes"]
    assert [cluster[n]["solved"] for n in ("1", "2")] == [2, 2] and [cluster[n]["nodes_used"] for n in ("1", "2")] == [1, 2]
    assert document["cluster_ratio"] == pytest.approx(cluster["1"]["wall_s"] / cluster["2"]["wall_s"])  # per-minute rates, same attempts
    assert f"wrote {out}" in capsys.readouterr().out
