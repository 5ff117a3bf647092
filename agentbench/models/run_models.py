"""A run's models: endpoints checked or servers started, one cap on concurrent calls per
endpoint, whether replies are streamed, the built-in baselines; and, for each attempt, what its
scaffold may know of its model (ModelAccess)."""

from __future__ import annotations

import threading
from contextlib import ExitStack
from typing import Callable

from agentbench.contracts import ModelAccess
from agentbench.cost import token_cost_usd
from agentbench.models.builtin import BuiltinModels
from agentbench.models.calls import ModelCaller, Streaming
from agentbench.models.endpoint import (
    Endpoint,
    check_reachable,
    endpoint_for,
    probe_chat,
    served_facts,
    streams_usage,
)
from agentbench.models.profiles import ModelProfile
from agentbench.models.serving import SELF_HOSTED, Launcher, RunServers, launcher_for
from agentbench.recorder import RunRecorder


class RunModels:
    """The models of one run. `check` before anything is recorded (what a user can get wrong),
    `start` once the attempts are about to run; `access` per attempt."""

    def __init__(self, profiles: list[ModelProfile], base_url: str | None, solutions: dict[str, str | None],
                 on_status: Callable[[str], None] = lambda line: None):
        self.profiles = profiles
        self.base_url = base_url
        self.solutions = solutions  # per task: the reference patch the oracle replays
        self.on_status = on_status
        self.endpoints: dict[str, Endpoint] = {}
        self.launchers: dict[str, Launcher] = {}  # servers to start, per self-hosted profile without one
        self.served: dict[str, dict] = {}  # per profile: what its server reports (model id, version)
        self.gates: dict[str, threading.BoundedSemaphore] = {}  # per profile; profiles on one endpoint share theirs
        self.streaming: dict[str, Streaming] = {}  # per profile: streamed until a stream comes without usage
        self.builtin: BuiltinModels | None = None

    def check(self) -> None:
        """Every endpoint answers, or every self-hosted server can be started here."""
        for profile in self.profiles:
            if profile.provider in SELF_HOSTED and not profile.resolved_base_url(self.base_url):
                self.launchers[profile.name] = launcher_for(profile)
            elif profile.provider != "builtin":
                endpoint = endpoint_for(profile, self.base_url)
                self.served[profile.name] = check_reachable(endpoint, profile.name)
                self.endpoints[profile.name] = endpoint
            else:
                self.served[profile.name] = {"model": profile.resolved_model(), "builtin": True}

    def start(self, stack: ExitStack, recorder: RunRecorder) -> None:
        """Start or attach the self-hosted servers (recorded) and the baselines; all stop when `stack` closes."""
        servers = stack.enter_context(RunServers(recorder, self.on_status))
        for profile in self.profiles:
            if profile.name in self.launchers:
                self.endpoints[profile.name] = servers.start(profile, self.launchers[profile.name])
                self.served[profile.name] = served_facts(self.endpoints[profile.name])
            elif profile.provider in SELF_HOSTED:
                servers.attach(profile, self.endpoints[profile.name])
        self.gates = endpoint_gates(self.profiles, self.endpoints)
        self.streaming = {profile.name: Streaming(self._may_stream(profile)) for profile in self.profiles}
        if any(p.provider == "builtin" for p in self.profiles):
            self.builtin = stack.enter_context(BuiltinModels(self.solutions))

    def access(self, profile: ModelProfile, task_id: str, epoch: int) -> ModelAccess:
        """What one attempt's scaffold may use of its model."""
        endpoint = self.endpoint(profile, task_id, epoch)
        caller = ModelCaller(endpoint, profile.retry, self.gates[profile.name], self.streaming[profile.name],
                             check_usage=profile.provider != "builtin")
        return ModelAccess(
            complete=caller.complete,
            context_window=profile.context_tokens(),
            price=lambda prompt, completion, cached: token_cost_usd(profile, prompt, completion, cached),
            endpoint_problem=lambda: probe_chat(endpoint),
        )

    def endpoint(self, profile: ModelProfile, task_id: str, epoch: int) -> Endpoint:
        if profile.provider == "builtin":
            return Endpoint(self.builtin.base_url(task_id, epoch), profile.resolved_model(), "none")
        return self.endpoints[profile.name]

    def _may_stream(self, profile: ModelProfile) -> bool:
        """Stream a profile's replies only where its server reports usage in streams, so that no
        call's tokens are unknown; asked once, with a one-token request."""
        if not profile.stream or profile.provider == "builtin":
            return profile.stream
        reports = streams_usage(self.endpoints[profile.name])
        self.served[profile.name]["streams_usage"] = reports
        if reports is False:
            self.on_status(f"{profile.name}: its server sends no token usage in streamed replies, so they are not streamed "
                           "(time to first token is not measured)")
        return reports is not False


def endpoint_gates(profiles: list[ModelProfile], endpoints: dict[str, Endpoint]) -> dict[str, threading.BoundedSemaphore]:
    """One cap on concurrent calls per endpoint: profiles served from the same URL share it, at
    the smallest max_connections among them; each built-in baseline has its own."""
    groups: dict[str, list[ModelProfile]] = {}
    for profile in profiles:
        key = endpoints[profile.name].base_url if profile.name in endpoints else f"builtin:{profile.name}"
        groups.setdefault(key, []).append(profile)
    gates = {}
    for group in groups.values():
        gate = threading.BoundedSemaphore(min(profile.max_connections for profile in group))
        gates.update({profile.name: gate for profile in group})
    return gates
