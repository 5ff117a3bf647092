"""The vLLM servers of one run: started or attached, sampled, recorded, stopped, paid for."""

from __future__ import annotations

import os
import time
from contextlib import ExitStack

from sqlmodel import Session, select

from agentbench.models.endpoint import Endpoint
from agentbench.models.pricing import gpu_seconds_cost_usd, share_by_tokens
from agentbench.models.profiles import ModelProfile
from agentbench.models.server_metrics import MetricsSampler
from agentbench.models.vllm import VllmServer
from agentbench.paths import results_dir
from agentbench.store import AttemptRow, ServerRow, ServerSampleRow, utcnow


def sample_interval_s() -> float:
    """Seconds between /metrics readings (AGENTBENCH_SERVER_SAMPLE_S, default 5)."""
    return float(os.environ.get("AGENTBENCH_SERVER_SAMPLE_S", "5"))


class RunServers:
    """Context for a run's vLLM servers; on exit every server we started is stopped, every
    server's time is recorded, and the run's self-hosted attempts are given their share."""

    def __init__(self, engine, run: str, on_status=lambda line: None):
        self.engine = engine
        self.run = run
        self.on_status = on_status
        self.stack = ExitStack()
        self.sessions: list[tuple[int, float]] = []  # server row id, monotonic start

    def start(self, profile: ModelProfile, executable: str) -> Endpoint:
        """Start `vllm serve` for the profile and wait for it; its endpoint."""
        log = results_dir() / "vllm" / f"{self.run}-{profile.name}.log"
        server = VllmServer(profile, log, executable)
        self.on_status(f"starting vLLM for {profile.name} on {profile.gpus} GPU(s); log: {log}")
        row_id, started = self._record(profile, server.base_url, True, " ".join(server.command)), time.monotonic()
        self.sessions.append((row_id, started))
        self.stack.enter_context(server)
        self._update(row_id, ready_s=time.monotonic() - started, vllm_version=server.version())
        self.on_status(f"vLLM for {profile.name} ready after {time.monotonic() - started:.0f} s")
        endpoint = Endpoint(server.base_url, profile.resolved_model(), "none", profile.request_timeout_s, profile.sampling)
        self._sample(row_id, server.root)
        return endpoint

    def attach(self, profile: ModelProfile, endpoint: Endpoint) -> None:
        """Record a running server the run uses; its time counts from now to the end of the run."""
        row_id = self._record(profile, endpoint.base_url, False, "")
        self.sessions.append((row_id, time.monotonic()))
        self._sample(row_id, endpoint.base_url.removesuffix("/v1"))

    def __enter__(self) -> RunServers:
        return self

    def __exit__(self, *exc) -> None:
        try:
            self.stack.close()
        finally:
            for row_id, started in self.sessions:
                self._update(row_id, uptime_s=time.monotonic() - started, stopped_at=utcnow())
            if self.sessions:
                settle_self_hosted(self.engine, self.run)

    def _sample(self, row_id: int, root: str) -> None:
        def store(sample: ServerSampleRow) -> None:
            sample.server_id = row_id
            with Session(self.engine) as session:
                session.add(sample)
                session.commit()

        self.stack.enter_context(MetricsSampler(f"{root}/metrics", store, sample_interval_s()))

    def _record(self, profile: ModelProfile, url: str, ours: bool, command: str) -> int:
        row = ServerRow(run=self.run, model=profile.name, url=url, started_by_us=ours, command=command,
                        gpus=profile.gpus or 1, gpu_hour_usd=profile.prices.gpu_hour)
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            return row.id

    def _update(self, row_id: int, **fields) -> None:
        with Session(self.engine) as session:
            row = session.get(ServerRow, row_id)
            for key, value in fields.items():
                setattr(row, key, value)
            session.add(row)
            session.commit()


def settle_self_hosted(engine, run: str) -> None:
    """Give each self-hosted attempt of the run its share, by tokens, of its model's server
    GPU-seconds and their cost, over every session of the run (a resumed run has several)."""
    with Session(engine) as session:
        servers = list(session.exec(select(ServerRow).where(ServerRow.run == run)))
        for model in {server.model for server in servers}:
            own = [s for s in servers if s.model == model]
            gpu_seconds = sum(s.uptime_s * s.gpus for s in own)
            cost = gpu_seconds_cost_usd(gpu_seconds, own[-1].gpu_hour_usd)
            attempts = list(session.exec(select(AttemptRow).where(AttemptRow.run == run, AttemptRow.model == model)))
            tokens = {a.id: a.prompt_tokens + a.completion_tokens for a in attempts}
            gpu_shares = share_by_tokens(gpu_seconds, tokens)
            cost_shares = share_by_tokens(cost, tokens) if cost is not None else {}
            for attempt in attempts:
                attempt.gpu_s = gpu_shares[attempt.id]
                attempt.cost_usd = cost_shares.get(attempt.id)
                session.add(attempt)
        session.commit()

