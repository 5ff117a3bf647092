"""Cost per attempt and per solved task, hand-computed, for an API and a self-hosted profile."""

import json
from datetime import datetime, timezone

import pytest
from sqlmodel import Session

from agentbench.cost import (
    attempt_cost_usd,
    gpu_seconds_cost_usd,
    price_text,
    share_by_tokens,
    shares_of_servers,
    token_cost_usd,
)
from agentbench.metrics import gpu_seconds_per_solved_of, server_load
from agentbench.models.profiles import ModelProfile, Prices, load_profiles
from agentbench.recorder import RunRecorder
from agentbench.report import build_report
from agentbench.store import (
    AttemptRow,
    RunRow,
    ServerRow,
    ServerSampleRow,
    get_run,
    run_attempts,
    run_servers,
)

NOW = datetime(2026, 11, 23, tzinfo=timezone.utc)


def test_api_tokens_are_priced_per_million_with_cached_input_cheaper():
    profile = load_profiles()["gpt-4o-mini"]  # $0.15 in, $0.075 cached in, $0.60 out
    # 800k uncached x 0.15 + 200k cached x 0.075 + 100k out x 0.60 = 0.12 + 0.015 + 0.06
    assert token_cost_usd(profile, 1_000_000, 100_000, cached_tokens=200_000) == pytest.approx(0.195)
    assert token_cost_usd(load_profiles()["llama3-70b"], 1000, 1000) is None
    assert token_cost_usd(load_profiles()["oracle"], 1000, 1000) == 0.0


def test_gpu_time_is_priced_per_gpu_hour_and_shared_by_tokens():
    assert gpu_seconds_cost_usd(4 * 1800, 2.50) == pytest.approx(5.0)  # 4 GPUs for half an hour
    assert gpu_seconds_cost_usd(3600, None) is None
    assert share_by_tokens(6.0, {"a": 100, "b": 200}) == pytest.approx({"a": 2.0, "b": 4.0})
    assert share_by_tokens(6.0, {"a": 0, "b": 0}) == {"a": 3.0, "b": 3.0}
    assert share_by_tokens(6.0, {}) == {}


def test_prices_are_printed_with_their_date():
    profiles = load_profiles()
    assert price_text(profiles["gpt-4o-mini"]) == "$0.15 in, cached $0.075, $0.6 out per Mtok (2026-11-01)"
    assert price_text(profiles["llama3-70b"]) == "$2.5/GPU-h x 4 (2026-11-01)"
    assert price_text(profiles["noop"]) == "free (baseline)"


def _attempt(run, task, model, solved, prompt, completion, cost=None):
    return AttemptRow(id=f"{run}|{task}|{model}", run=run, task=task, model=model, agent="fast", epoch=0, solved=solved,
                      status="solved" if solved else "unsolved", stop_reason="submitted", prompt_tokens=prompt,
                      completion_tokens=completion, cost_usd=cost, started_at=NOW)


def test_self_hosted_cost_per_attempt_and_per_solved_task(engine):
    profile = load_profiles()["llama3-8b"]
    with Session(engine) as session:
        session.add(RunRow(name="hosted", spec_json="{}", agentbench_version="t",
                           profiles_json=json.dumps({"llama3-8b": profile.model_dump(mode="json", exclude={"name"})})))
        session.commit()
        # Two sessions of one server (the run was resumed): 1200 s + 600 s on 2 GPUs at $3/GPU-h.
        for uptime in (1200.0, 600.0):
            session.add(ServerRow(run="hosted", model="llama3-8b", url="http://x/v1", started_by_us=True, gpus=2,
                                  gpu_hour_usd=3.0, uptime_s=uptime))
        session.add(_attempt("hosted", "t1", "llama3-8b", True, 90, 10))     # 100 tokens
        session.add(_attempt("hosted", "t2", "llama3-8b", False, 150, 50))   # 200 tokens
        session.commit()
    RunRecorder(engine, "hosted").settle_self_hosted()
    solved, unsolved = run_attempts(engine, "hosted")
    # 1800 s x 2 GPUs = 3600 GPU-s = 1 GPU-h x $3 = $3.00, split 1:2 by tokens.
    assert (solved.gpu_s, unsolved.gpu_s) == pytest.approx((1200.0, 2400.0))
    assert (solved.cost_usd, unsolved.cost_usd) == pytest.approx((1.0, 2.0))
    report = build_report(get_run(engine, "hosted"), run_attempts(engine, "hosted"), run_servers(engine, "hosted"))
    [config] = report["configs"]
    assert config["cost_per_solved_usd"] == pytest.approx(3.0)  # $3 spent, one task solved
    assert config["gpu_s_per_solved"] == pytest.approx(3600.0)
    assert report["prices"]["llama3-8b"]["text"] == "$2.5/GPU-h x 1 (2026-11-01)"
    assert [s["gpu_s"] for s in report["servers"]] == [2400.0, 1200.0]


def test_api_cost_per_solved_task(engine):
    profile = load_profiles()["gpt-4o-mini"]
    with Session(engine) as session:
        session.add(RunRow(name="api", spec_json="{}", agentbench_version="t"))
        for task, solved in (("t1", True), ("t2", True), ("t3", False)):
            # 1M prompt tokens and 100k completion tokens each: 0.15 + 0.06 = $0.21 per attempt
            session.add(_attempt("api", task, "gpt-4o-mini", solved, 1_000_000, 100_000, token_cost_usd(profile, 1_000_000, 100_000)))
        session.commit()
    [config] = build_report(get_run(engine, "api"), run_attempts(engine, "api"))["configs"]
    assert config["cost_usd"] == pytest.approx(0.63)
    assert config["cost_per_solved_usd"] == pytest.approx(0.315)
    assert config["gpu_s_per_solved"] is None


def test_gpu_seconds_per_solved_and_server_load():
    attempts = [{"solved": True, "gpu_s": 10.0}, {"solved": False, "gpu_s": 20.0}, {"solved": True, "gpu_s": 30.0}]
    assert gpu_seconds_per_solved_of(attempts) == 30.0
    assert gpu_seconds_per_solved_of([{"solved": True, "gpu_s": None}]) is None
    samples = [
        {"running": 2.0, "waiting": 0.0, "kv_cache_usage": 0.2, "prefix_hits": 10.0, "prefix_queries": 100.0},
        {"running": 6.0, "waiting": 4.0, "kv_cache_usage": 0.6, "prefix_hits": 70.0, "prefix_queries": 200.0},
        {"running": 4.0, "waiting": None, "kv_cache_usage": None, "prefix_hits": None, "prefix_queries": None},
    ]
    assert server_load(samples) == pytest.approx({"samples": 3, "running_mean": 4.0, "running_peak": 6.0, "waiting_mean": 2.0,
                                                  "kv_cache_usage_mean": 0.4, "prefix_cache_hit_rate": 0.6})
    assert server_load([])["prefix_cache_hit_rate"] is None


def test_samples_are_stored_with_their_server(engine):
    with Session(engine) as session:
        session.add(RunRow(name="s", spec_json="{}", agentbench_version="t"))
        server = ServerRow(run="s", model="m", url="u", started_by_us=False, gpus=1)
        session.add(server)
        session.commit()
        session.add(ServerSampleRow(server_id=server.id, at_s=1.0, running=3.0))
        session.commit()
    [(row, samples)] = run_servers(engine, "s")
    assert row.model == "m" and [s.running for s in samples] == [3.0]


def test_server_sessions_are_shared_by_tokens_and_unknown_when_unpriced():
    gpu_s, cost = shares_of_servers([(3600, 2, 3.0, None), (1800, 2, 3.0, None)], {"a": 300, "b": 100})
    assert gpu_s == {"a": 8100, "b": 2700} and cost == pytest.approx({"a": 6.75, "b": 2.25})  # 3 GPU-h at $3
    gpu_s, cost = shares_of_servers([(7200, 0, None, 0.5)], {"a": 1, "b": 3})  # a CPU server: machine-hours
    assert gpu_s == {"a": None, "b": None} and cost == pytest.approx({"a": 0.25, "b": 0.75})
    assert shares_of_servers([(7200, 0, None, None)], {"a": 1}) == ({"a": None}, {"a": None})


def test_an_attempt_with_a_call_of_unknown_tokens_has_an_unknown_cost():
    priced = ModelProfile(name="p", provider="openai", model="m", prices=Prices(input_per_mtok=1.0, output_per_mtok=2.0))
    assert attempt_cost_usd(priced, 1_000_000, 500_000, 0, 0) == pytest.approx(2.0)
    assert attempt_cost_usd(priced, 1_000_000, 500_000, 0, 1) is None
