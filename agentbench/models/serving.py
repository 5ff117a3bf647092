"""The self-hosted servers of one run (vLLM, llama.cpp): started or attached, sampled,
recorded, stopped, paid for."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Callable

from agentbench.models.endpoint import Endpoint
from agentbench.models.llamacpp import LlamaCppServer, check_can_serve_local
from agentbench.models.profiles import ModelProfile
from agentbench.models.server_metrics import MetricsSampler
from agentbench.models.server_process import ServerProcess
from agentbench.models.vllm import VllmServer, check_can_serve
from agentbench.paths import results_dir
from agentbench.store import ServerRow, utcnow

SELF_HOSTED = ("vllm", "llamacpp")
Launcher = Callable[..., ServerProcess]  # (log_path, port=None, host=...) -> a server not yet started


def launcher_for(profile: ModelProfile) -> Launcher:
    """How this machine starts the profile's server, once it is known that it can (one
    sentence when it cannot: no GPUs, vLLM or llama-cpp-python missing, weights missing)."""
    if profile.provider == "vllm":
        executable = check_can_serve(profile)
        return lambda log, port=None, host="127.0.0.1": VllmServer(profile, log, executable, port, host)
    model_path = check_can_serve_local(profile)
    return lambda log, port=None, host="127.0.0.1": LlamaCppServer(profile, log, model_path, port, host)


def server_log(profile: ModelProfile, name: str) -> Path:
    return results_dir() / profile.provider / f"{name}-{profile.name}.log"


def sample_interval_s() -> float:
    """Seconds between /metrics readings (AGENTBENCH_SERVER_SAMPLE_S, default 5)."""
    return float(os.environ.get("AGENTBENCH_SERVER_SAMPLE_S", "5"))


class RunServers:
    """Context for a run's self-hosted servers; on exit every server we started is stopped, every
    server's time is recorded, and the run's self-hosted attempts are given their share."""

    def __init__(self, recorder, on_status=lambda line: None):
        self.recorder = recorder  # a RunRecorder
        self.on_status = on_status
        self.stack = ExitStack()
        self.sessions: list[tuple[int, float]] = []  # server row id, monotonic start

    def start(self, profile: ModelProfile, launch: Launcher) -> Endpoint:
        """Start the profile's server and wait for it; its endpoint."""
        server = launch(server_log(profile, self.recorder.run))
        where = f"on {profile.gpus} GPU(s)" if profile.gpus else "on the CPU"
        self.on_status(f"starting {server.label} {where}; log: {server.log_path}")
        row_id, started = self._record(profile, server.base_url, True, " ".join(server.command)), time.monotonic()
        self.sessions.append((row_id, started))
        self.stack.enter_context(server)
        self.recorder.update_server(row_id, ready_s=time.monotonic() - started, vllm_version=server.version())
        self.on_status(f"{server.label} ready after {time.monotonic() - started:.0f} s")
        endpoint = Endpoint(server.base_url, profile.resolved_model(), "none", profile.request_timeout_s,
                            profile.sampling.request_fields(), profile.max_tokens, profile.sampling.extra)
        if profile.provider == "vllm":
            self._sample(row_id, server.root)
        return endpoint

    def attach(self, profile: ModelProfile, endpoint: Endpoint) -> None:
        """Record a running server the run uses; its time counts from now to the end of the run."""
        row_id = self._record(profile, endpoint.base_url, False, "")
        self.sessions.append((row_id, time.monotonic()))
        if profile.provider == "vllm":
            self._sample(row_id, endpoint.base_url.removesuffix("/v1"))

    def __enter__(self) -> RunServers:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stack.close()
        finally:
            for row_id, started in self.sessions:
                self.recorder.update_server(row_id, uptime_s=time.monotonic() - started, stopped_at=utcnow())
            if self.sessions:
                self.recorder.settle_self_hosted()

    def _sample(self, row_id: int, root: str) -> None:
        self.stack.enter_context(MetricsSampler(f"{root}/metrics", lambda sample: self.recorder.add_sample(row_id, sample),
                                                sample_interval_s()))

    def _record(self, profile: ModelProfile, url: str, ours: bool, command: str) -> int:
        return self.recorder.add_server(ServerRow(
            run=self.recorder.run, model=profile.name, url=url, started_by_us=ours, command=command, kind=profile.provider,
            gpus=profile.gpus or 0, gpu_hour_usd=profile.prices.gpu_hour, machine_hour_usd=profile.prices.machine_hour))
