"""Money before and during a run: forecasts from earlier runs (--estimate) and a whole run's cap (--max-cost)."""

import json

import pytest
import yaml
from conftest import FIXTURES
from sqlmodel import Session
from test_cli import agentbench

from agentbench.cost import expected_cost_usd
from agentbench.cost_cap import CostCap, fits
from agentbench.estimate import History, forecast
from agentbench.models.chat_server import Reply
from agentbench.models.profiles import ModelProfile, Prices, ServerArgs
from agentbench.report import build_report
from agentbench.runner import Runner
from agentbench.sandbox.docker import DockerSandboxes
from agentbench.spec import RunSpec
from agentbench.store import AttemptRow, RunRow, get_run, run_attempts, utcnow
from agentbench.tasks import load_suite

TINY = str(FIXTURES / "tiny")
PRICED = Prices(input_per_mtok=1.0, output_per_mtok=2.0)  # 100k prompt tokens: $0.10


def past(task, model, agent="fast", prompt=1000, completion=100, wall_s=60.0, status="solved"):
    return AttemptRow(id=f"{task}{model}{prompt}{wall_s}", run="old", task=task, model=model, agent=agent, epoch=0,
                      status=status, stop_reason="submitted", prompt_tokens=prompt, completion_tokens=completion,
                      wall_s=wall_s, started_at=utcnow())


def test_the_cap_counts_spent_in_flight_and_next():
    assert fits(1.0, 0.5, [0.2, 0.2], 0.1) and not fits(1.0, 0.5, [0.2, 0.2], 0.11)
    cap = CostCap(1.0, spent_usd=0.5)
    assert cap.try_start("a", 0.2) and cap.try_start("b", 0.2)
    cap.spend("a", 0.25)  # over its expectation: it counts at what it spent
    assert not cap.try_start("c", 0.1) and cap.hit
    cap.finish("a", 0.25)
    assert not cap.try_start("d", 0.0)  # once the cap is hit, nothing new starts
    assert (cap.not_started, cap.spent_usd) == (2, 0.75)


def test_history_prefers_the_same_task_and_leaves_out_infrastructure_errors():
    history = History([past("t1", "m", prompt=1000), past("t1", "m", prompt=3000), past("t2", "m", prompt=8000),
                       past("t1", "m", prompt=10**6, status="error")])
    same = history.expected("t1", "m", "fast")
    assert (same.prompt_tokens, same.basis, same.same_task) == (2000, 2, True)
    other = history.expected("t9", "m", "fast")
    assert (round(other.prompt_tokens), other.basis, other.same_task) == (4000, 3, False)
    assert history.expected("t1", "m", "deliberate") is None


def test_forecast_by_hand():
    api = ModelProfile(name="api", provider="openai", model="x", prices=PRICED)
    gpu = ModelProfile(name="gpu", provider="vllm", model="y", server_args=ServerArgs(tensor_parallel_size=2),
                       prices=Prices(gpu_hour=3.0))
    history = History([past("t1", "api", prompt=100_000, completion=10_000, wall_s=1800),
                       past("t1", "gpu", prompt=50_000, completion=5_000, wall_s=1800)])
    cells = [("t1", "api", "fast"), ("t2", "api", "fast"), ("t1", "gpu", "fast"), ("t1", "new", "fast")]
    profiles = {"api": api, "gpu": gpu, "new": ModelProfile(name="new", provider="openai", model="z", prices=PRICED)}
    result = forecast(cells, history, profiles, workers=2)
    by_model = {c["model"]: c for c in result["configs"]}
    assert by_model["api"]["cost_usd"] == pytest.approx(2 * (0.1 + 0.02))
    assert result["wall_hours"] == pytest.approx(3 * 0.5 / 2)  # three known half-hour attempts, two at once
    assert by_model["gpu"]["cost_usd"] == pytest.approx(0.75 * 2 * 3.0)  # its 2 GPUs for the whole run
    assert (by_model["new"]["unknown"], result["unknown"]) == (1, 1)
    assert result["tokens"] == 2 * 110_000 + 55_000
    assert result["cost_usd"] == pytest.approx(0.24 + 4.5) and result["complete"] is False  # "new" is unknown: a lower bound
    assert result["cost_bound_usd"] is None and forecast(cells, history, profiles, 2, 0.5)["cost_bound_usd"] == 2.0
    cpu = ModelProfile(name="cpu", provider="llamacpp", model="m", prices=Prices(machine_hour=0.10))
    local = forecast([("t1", "cpu", "fast")], History([past("t1", "cpu", wall_s=3600)]), {"cpu": cpu}, workers=1)
    assert local["configs"][0]["cost_usd"] == pytest.approx(0.10) and local["complete"] is True  # its machine's hour
    assert expected_cost_usd(ModelProfile(name="o", provider="builtin", model="o"), None) == 0.0


def run_priced(engine, docker_client, server, name, epochs, max_cost):
    profile = ModelProfile(name="priced", provider="openai", model="scripted", base_url=server.url, prices=PRICED)
    spec = RunSpec(name=name, models=["priced"], agents=["minimal"], suites=[TINY], epochs=epochs, workers=1, max_cost=max_cost,
                   labels={"release": "1.3.0", "team": "core"})
    return Runner(spec, engine, DockerSandboxes(docker_client), [profile], load_suite(TINY)).run()


@pytest.mark.usefixtures("python_image")
def test_a_capped_run_starts_nothing_that_would_pass_the_cap_and_says_so(engine, docker_client, scripted_server):
    server = scripted_server([Reply(content="Done.", prompt_tokens=100_000, completion_tokens=5)])
    assert run_priced(engine, docker_client, server, "capped", epochs=6, max_cost=0.25) == "capped"
    attempts = run_attempts(engine, "capped")
    assert [a.cost_usd for a in attempts] == [pytest.approx(0.10001)] * 2  # a third would have made $0.30
    report = build_report(get_run(engine, "capped"), attempts)
    assert report["status"] == "capped"
    assert any("cost cap of $0.25 was reached: 4 attempt(s) not started, $0.2000 spent" in note for note in report["notes"])

    resumed = agentbench("run", "--resume", "capped", "--max-cost", "1", "--label", "release=1.4.0")  # as the note says: nothing else repeated
    assert resumed.returncode == 0, resumed.stdout + resumed.stderr
    assert json.loads(get_run(engine, "capped").labels_json) == {"release": "1.4.0", "team": "core"}  # a flag overrides its key only
    assert "release=1.4.0 team=core" in agentbench("runs").stdout
    assert sorted(a.epoch for a in run_attempts(engine, "capped")) == list(range(6))
    assert get_run(engine, "capped").status == "completed"
    assert not any("$0.25" in note for note in build_report(get_run(engine, "capped"), run_attempts(engine, "capped"))["notes"])


def test_estimate_forecasts_from_earlier_runs_and_runs_nothing(tmp_path, engine):
    with Session(engine) as session:
        for epoch in range(3):
            row = past("tiny/add-numbers", "priced", prompt=100_000, completion=0, wall_s=720)
            row.id, row.epoch = f"old-{epoch}", epoch
            session.add(row)
        session.commit()
    models = tmp_path / "models.yaml"
    priced = {"provider": "openai", "model": "x", "base_url": "http://127.0.0.1:9/v1",
              "prices": {"input_per_mtok": 1.0, "output_per_mtok": 2.0}}
    models.write_text(yaml.safe_dump({"priced": priced, "fresh": priced}))
    done = agentbench("run", "--model", "priced,fresh", "--models-file", str(models), "--suite", TINY, "--epochs", "5",
                      "--workers", "2", "--run", "planned", "--estimate")
    assert done.returncode == 0, done.stderr
    assert ("in all: at least 500,000 tokens, at least $0.5000, at least 1.00 attempt-hours, that is at least 0.50 h of "
            "wall time at 2 at once") in " ".join(done.stdout.split())  # half the attempts are unknown: lower bounds
    assert "3 attempts" in done.stdout
    [fresh] = [line for line in done.stdout.splitlines() if "fresh" in line]
    assert fresh.count("unknown") == 3 and "$0" not in fresh  # no history: unknown, never free
    assert "5 attempt(s) have no earlier run of their model and agent" in done.stdout
    with Session(engine) as session:
        assert session.get(RunRow, "planned") is None
