"""How an attempt reaches its model, as plain values that travel to whatever process runs the
attempt (ModelRoute). The routes of one run share, within a process, one cap on concurrent
calls per endpoint and one streaming switch per profile."""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import partial

from agentbench.contracts import ModelAccess
from agentbench.cost import token_cost_usd
from agentbench.models.calls import ModelCaller, Streaming
from agentbench.models.endpoint import Endpoint
from agentbench.models.liveness import endpoint_down
from agentbench.models.profiles import ModelProfile


@dataclass(frozen=True)
class Gate:
    """One cap on concurrent calls: `key` names what shares it, `slots` how many calls it lets in."""

    key: str
    slots: int


@dataclass(frozen=True)
class ModelRoute:
    """One attempt's model: its profile, its endpoint, the cap it queues on, whether to stream.
    `scope` names the run, whose routes share caps and switches."""

    profile: ModelProfile
    endpoint: Endpoint
    gate: Gate
    stream: bool
    scope: str
    cluster_gates: object | None = None  # a Ray cluster's caps (agentbench.cluster.actors), else this process's

    def access(self) -> ModelAccess:
        """What the attempt's scaffold may use of its model, in the process that runs it."""
        if self.cluster_gates is not None:
            from agentbench.cluster.actors import ClusterGate

            gate = ClusterGate(self.cluster_gates, self.gate)
        else:
            gate = shared_gate(self.scope, self.gate)
        caller = ModelCaller(self.endpoint, self.profile.retry, gate,
                             shared_streaming(self.scope, self.profile.name, self.stream),
                             check_usage=self.profile.provider != "builtin")
        return ModelAccess(complete=caller.complete, context_window=self.profile.context_tokens(),
                           price=partial(token_cost_usd, self.profile), endpoint_problem=partial(endpoint_down, caller),
                           up_because=lambda: caller.up_because, overhead=lambda: tuple(caller.overhead))


def endpoint_gates(profiles: list[ModelProfile], endpoints: dict[str, Endpoint]) -> dict[str, Gate]:
    """One cap per endpoint: profiles served from the same URL share it, at the smallest
    max_connections among them; each built-in baseline has its own."""
    groups: dict[str, list[ModelProfile]] = {}
    for profile in profiles:
        key = endpoints[profile.name].base_url if profile.name in endpoints else f"builtin:{profile.name}"
        groups.setdefault(key, []).append(profile)
    return {profile.name: Gate(key, min(p.max_connections for p in group)) for key, group in groups.items() for profile in group}


_shared: dict[tuple, threading.BoundedSemaphore | Streaming] = {}
_shared_lock = threading.Lock()


def shared_gate(scope: str, gate: Gate) -> threading.BoundedSemaphore:
    """The semaphore of `gate` in this process, made on first use."""
    with _shared_lock:
        return _shared.setdefault((scope, "gate", gate.key), threading.BoundedSemaphore(gate.slots))


def shared_streaming(scope: str, profile: str, stream: bool) -> Streaming:
    """The profile's streaming switch in this process: once a stream came without usage, off
    for the run's later calls."""
    with _shared_lock:
        return _shared.setdefault((scope, "stream", profile), Streaming(stream))


def forget(scope: str) -> None:
    """Drop what a finished run shared."""
    with _shared_lock:
        for key in [key for key in _shared if key[0] == scope]:
            del _shared[key]
