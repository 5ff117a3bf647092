"""The vLLM side up to the process boundary: the serve command, the GPU check, the lifecycle
of a stand-in `vllm` executable (late readiness, timeout, early exit, teardown), /metrics."""

import os
import shlex
import time
from pathlib import Path

import httpx
import pytest
from conftest import FIXTURES

from agentbench.errors import UserError
from agentbench.models.profiles import load_profiles
from agentbench.models.server_metrics import MetricsSampler, parse_metrics
from agentbench.models.vllm import VllmServer, check_can_serve, serve_command

FAKE_VLLM = str(FIXTURES / "bin" / "fake-vllm")


def test_fp8_variant_serve_command_is_complete():
    profile = load_profiles()["llama3-70b-fp8"]
    assert serve_command(profile, port=8123) == [
        "vllm", "serve", "meta-llama/Meta-Llama-3.1-70B-Instruct",
        "--served-model-name", "meta-llama/Meta-Llama-3.1-70B-Instruct",
        "--host", "127.0.0.1", "--port", "8123", "--tensor-parallel-size", "4", "--max-model-len", "32768",
        "--quantization", "fp8", "--enable-prefix-caching", "--enable-auto-tool-choice", "--tool-call-parser", "llama3_json",
    ]


def test_speculative_and_short_context_variants_change_only_their_flag():
    profiles = load_profiles()
    base = serve_command(profiles["llama3-70b"])
    spec = serve_command(profiles["llama3-70b-spec"])
    assert [arg for arg in spec if arg not in base] == ["--speculative-config", '{"method": "ngram", "num_speculative_tokens": 4, "prompt_lookup_max": 4}']
    short = serve_command(profiles["llama3-70b-8k"])
    assert short[short.index("--max-model-len") + 1] == "8192" and len(short) == len(base)
    qwen = serve_command(profiles["qwen2.5-coder-7b"])
    assert qwen[qwen.index("--tool-call-parser") + 1] == "hermes"


def test_too_few_gpus_is_one_sentence_with_both_counts_and_the_way_out(monkeypatch):
    monkeypatch.setenv("AGENTBENCH_GPUS", "1")
    with pytest.raises(UserError, match=r"needs 4 GPU\(s\) to serve and this machine has 1; .*--base-url \(make: BASE_URL="):
        check_can_serve(load_profiles()["llama3-70b"])


def test_missing_vllm_says_how_to_install_it(monkeypatch):
    monkeypatch.setenv("AGENTBENCH_GPUS", "8")
    monkeypatch.delenv("AGENTBENCH_VLLM", raising=False)
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(UserError, match=r"not installed: install it with `pip install 'agentbench\[serve\]'`"):
        check_can_serve(load_profiles()["llama3-8b"])


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except FileNotFoundError:
        return False
    return state != "Z"


def _pids(path: Path) -> list[int]:
    for _ in range(100):
        if path.exists() and path.read_text():
            return [int(pid) for pid in path.read_text().split()]
        time.sleep(0.05)
    raise AssertionError("the stand-in never wrote its pids")


def test_server_answering_late_is_waited_for_then_torn_down_with_its_workers(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_READY_AFTER_S", "2")
    monkeypatch.setenv("FAKE_VLLM_PIDS", str(tmp_path / "pids"))
    server = VllmServer(load_profiles()["llama3-8b"], tmp_path / "vllm.log", FAKE_VLLM, ready_timeout_s=30)
    started = time.monotonic()
    with server:
        assert time.monotonic() - started >= 2
        models = httpx.get(f"{server.base_url}/models").json()
        assert models["data"][0]["id"] == "meta-llama/Meta-Llama-3.1-8B-Instruct"
        assert server.version() == "0.0.0-fake"
        pids = _pids(tmp_path / "pids")
        assert all(_alive(pid) for pid in pids)
    deadline = time.monotonic() + 5  # SIGKILL to the group is delivered within moments, not at once under load
    while any(_alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_alive(pid) for pid in pids)
    assert "--tensor-parallel-size 1" in (tmp_path / "vllm.log").read_text()


def test_server_that_never_gets_ready_times_out_and_leaves_nothing(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_READY_AFTER_S", "600")
    monkeypatch.setenv("FAKE_VLLM_PIDS", str(tmp_path / "pids"))
    server = VllmServer(load_profiles()["llama3-8b"], tmp_path / "vllm.log", FAKE_VLLM, ready_timeout_s=2)
    with pytest.raises(UserError, match=r"was not ready within 2 s; its log is .*vllm.log"):
        server.start()
    assert not any(_alive(pid) for pid in _pids(tmp_path / "pids"))


def test_server_that_dies_at_start_is_reported_with_its_exit_code(tmp_path, monkeypatch):
    monkeypatch.setenv("FAKE_VLLM_EXIT_CODE", "3")
    server = VllmServer(load_profiles()["llama3-8b"], tmp_path / "vllm.log", FAKE_VLLM, ready_timeout_s=30)
    with pytest.raises(UserError, match="exited with code 3 before it was ready"):
        server.start()
    assert "failing at start on purpose" in (tmp_path / "vllm.log").read_text()


def test_metrics_parse_new_and_old_names_and_sum_over_labels():
    new = """# HELP vllm:num_requests_running Number of requests running.
# TYPE vllm:num_requests_running gauge
vllm:num_requests_running{engine="0",model_name="m"} 3.0
vllm:num_requests_running{engine="1",model_name="m"} 2.0
vllm:num_requests_waiting{model_name="m"} 7.0
vllm:kv_cache_usage_perc{model_name="m"} 0.5
vllm:prefix_cache_queries_total{model_name="m"} 1000.0
vllm:prefix_cache_hits_total{model_name="m"} 250.0
"""
    sample = parse_metrics(new, at_s=1.5)
    assert (sample.at_s, sample.running, sample.waiting, sample.kv_cache_usage) == (1.5, 5.0, 7.0, 0.5)
    assert (sample.prefix_queries, sample.prefix_hits) == (1000.0, 250.0)
    old = 'vllm:gpu_cache_usage_perc{model_name="m"} 0.9\nvllm:num_requests_running{model_name="m"} 1\n'
    sample = parse_metrics(old)
    assert (sample.kv_cache_usage, sample.running, sample.waiting, sample.prefix_hits) == (0.9, 1.0, None, None)


def test_sampler_reads_a_live_server(tmp_path):
    samples = []
    with VllmServer(load_profiles()["llama3-8b"], tmp_path / "vllm.log", FAKE_VLLM) as server:
        with MetricsSampler(f"{server.root}/metrics", samples.append, interval_s=0.1):
            time.sleep(0.6)
    assert samples and samples[0].kv_cache_usage == 0.25 and samples[0].running == 0


def test_serve_dry_run_prints_a_shell_ready_line():
    from typer.testing import CliRunner

    from agentbench.cli import app

    result = CliRunner().invoke(app, ["serve", "llama3-70b-spec", "--dry-run", "--port", "9000"])
    assert result.exit_code == 0
    argv = shlex.split(result.stdout)
    assert argv[:3] == ["vllm", "serve", "meta-llama/Meta-Llama-3.1-70B-Instruct"]
    assert argv[argv.index("--port") + 1] == "9000"
    assert os.path.basename(argv[0]) == "vllm"


def test_a_run_starts_a_self_hosted_server_samples_it_charges_its_gpu_time_and_stops_it(tmp_path, docker_client, python_image):
    from sqlmodel import create_engine
    from test_cli import TINY, agentbench

    from agentbench.store import run_attempts, run_servers

    models = tmp_path / "models.yaml"
    models.write_text("fake-70b:\n  extends: llama3-70b\n  server_args: {tensor_parallel_size: 2}\n  prices: {gpu_hour: 3.0, date: '2026-11-20'}\n")
    env = {"AGENTBENCH_GPUS": "2", "AGENTBENCH_VLLM": FAKE_VLLM, "AGENTBENCH_SERVER_SAMPLE_S": "0.2",
           "FAKE_VLLM_READY_AFTER_S": "1", "FAKE_VLLM_PIDS": str(tmp_path / "pids")}
    done = agentbench("run", "--model", "fake-70b", "--suite", TINY, "--models-file", str(models), "--run", "hosted", env=env)
    assert done.returncode == 0, done.stderr
    assert "prices: fake-70b $3/GPU-h x 2 (2026-11-20)" in done.stdout
    assert "vLLM 0.0.0-fake for fake-70b (started by agentbench)" in done.stdout
    assert not any(_alive(pid) for pid in _pids(tmp_path / "pids"))
    engine = create_engine(os.environ["AGENTBENCH_DB"])
    [(server, samples)] = run_servers(engine, "hosted")
    assert server.started_by_us and server.gpus == 2 and server.ready_s >= 1 and server.uptime_s > server.ready_s
    assert "--tensor-parallel-size 2" in server.command and samples
    [attempt] = run_attempts(engine, "hosted")
    assert (attempt.status, attempt.prompt_tokens, attempt.completion_tokens) == ("unsolved", 100, 10)
    assert attempt.gpu_s == pytest.approx(server.uptime_s * 2)
    assert attempt.cost_usd == pytest.approx(server.uptime_s * 2 * 3.0 / 3600)


def test_sigterm_mid_run_stops_the_server_we_started(tmp_path, docker_client, python_image):
    import signal
    import subprocess
    import sys

    from test_cli import TINY

    models = tmp_path / "models.yaml"
    models.write_text("fake-8b: {extends: llama3-8b}\n")
    env = {**os.environ, "AGENTBENCH_GPUS": "1", "AGENTBENCH_VLLM": FAKE_VLLM, "FAKE_VLLM_REPLY_DELAY_S": "600",
           "FAKE_VLLM_PIDS": str(tmp_path / "pids")}
    command = [sys.executable, "-m", "agentbench", "run", "--model", "fake-8b", "--suite", TINY, "--models-file", str(models), "--run", "cut-served"]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not docker_client.containers.list(filters={"label": "agentbench.run=cut-served"}):
        assert time.monotonic() < deadline and process.poll() is None, "no attempt started"
        time.sleep(0.1)
    pids = _pids(tmp_path / "pids")
    time.sleep(1)  # the model call is in flight, and its reply 600 s away
    stopped = time.monotonic()
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=120)
    assert process.returncode == 130, stderr
    assert time.monotonic() - stopped < 30, "the run waited for the model call in flight"
    assert not any(_alive(pid) for pid in pids)
    assert not docker_client.containers.list(all=True, filters={"label": "agentbench.run=cut-served"})
