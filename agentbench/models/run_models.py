"""A run's models: endpoints checked or servers started, one cap on concurrent calls per
endpoint, whether replies are streamed, the built-in baselines; and, for each attempt, the route
to its model (ModelRoute)."""

from __future__ import annotations

import uuid
from contextlib import ExitStack
from typing import Callable

from agentbench.cost import token_cost_usd
from agentbench.models.builtin import BuiltinModels
from agentbench.models.endpoint import (
    Endpoint,
    check_reachable,
    endpoint_for,
    served_facts,
    streams_usage,
)
from agentbench.models.profiles import ModelProfile
from agentbench.models.route import Gate, ModelRoute, endpoint_gates, forget
from agentbench.models.serving import SELF_HOSTED, Launcher, RunServers, launcher_for
from agentbench.recorder import RunRecorder


class RunModels:
    """The models of one run. `check` before anything is recorded (what a user can get wrong),
    `start` once the attempts are about to run; `route` per attempt."""

    def __init__(self, profiles: list[ModelProfile], base_url: str | None, solutions: dict[str, str | None],
                 on_status: Callable[[str], None] = lambda line: None, reached_at: str | None = None):
        self.profiles = profiles
        self.reached_at = reached_at  # where other machines reach the baselines served here (attempts run there)
        self.base_url = base_url
        self.solutions = solutions  # per task: the reference patch the oracle replays
        self.on_status = on_status
        self.endpoints: dict[str, Endpoint] = {}
        self.launchers: dict[str, Launcher] = {}  # servers to start, per self-hosted profile without one
        self.served: dict[str, dict] = {}  # per profile: what its server reports (model id, version)
        self.chat_checks: dict[str, dict] = {}  # per profile whose server lists no models: its one chat check's usage
        self.gates: dict[str, Gate] = {}  # per profile; profiles on one endpoint share theirs
        self.streams: dict[str, bool] = {}  # per profile: whether its replies are streamed from the first call
        self.scope = uuid.uuid4().hex  # what this run's routes share in a process
        self.builtin: BuiltinModels | None = None

    def check(self) -> None:
        """Every endpoint answers, or every self-hosted server can be started here."""
        for profile in self.profiles:
            if profile.provider in SELF_HOSTED and not profile.resolved_base_url(self.base_url):
                self.launchers[profile.name] = launcher_for(profile)
            elif profile.provider != "builtin":
                endpoint = endpoint_for(profile, self.base_url)
                self.served[profile.name] = check_reachable(endpoint, profile.name)
                if "chat_check_usage" in self.served[profile.name]:  # the harness's request, for the books, not the lock
                    self.chat_checks[profile.name] = self.served[profile.name].pop("chat_check_usage")
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
        books = [self._book(profile, "does the endpoint answer chat completions", self.chat_checks[profile.name])
                 for profile in self.profiles if profile.name in self.chat_checks]
        self.streams = {profile.name: self._may_stream(profile, books) for profile in self.profiles}
        recorder.add_harness_calls(books)
        stack.callback(forget, self.scope)
        if any(p.provider == "builtin" for p in self.profiles):
            self.builtin = stack.enter_context(BuiltinModels(self.solutions, self.reached_at))

    def route(self, profile: ModelProfile, task_id: str, epoch: int) -> ModelRoute:
        """How one attempt reaches its model."""
        return ModelRoute(profile, self.endpoint(profile, task_id, epoch), self.gates[profile.name],
                          self.streams[profile.name], self.scope)

    def endpoint(self, profile: ModelProfile, task_id: str, epoch: int) -> Endpoint:
        if profile.provider == "builtin":
            return Endpoint(self.builtin.base_url(task_id, epoch), profile.resolved_model(), "none")
        return self.endpoints[profile.name]

    @staticmethod
    def _book(profile: ModelProfile, purpose: str, usage: dict | None) -> dict:
        """One request of the harness's own, for the run's books; its cost unknown when its usage is."""
        prompt, completion = (usage or {}).get("prompt_tokens", 0), (usage or {}).get("completion_tokens", 0)
        return {"model": profile.name, "purpose": purpose, "requests": 1, "prompt_tokens": prompt,
                "completion_tokens": completion, "cost_usd": token_cost_usd(profile, prompt, completion) if usage else None}

    def _may_stream(self, profile: ModelProfile, books: list[dict]) -> bool:
        """Stream a profile's replies only where its server reports usage in streams, so that no
        call's tokens are unknown; asked once, with a one-token request, whose cost goes in `books`."""
        if not profile.stream or profile.provider == "builtin":
            return profile.stream
        reports, usage = streams_usage(self.endpoints[profile.name])
        books.append(self._book(profile, "does the server report usage in streams", usage))
        self.served[profile.name]["streams_usage"] = reports
        if reports is False:
            self.on_status(f"{profile.name}: its server sends no token usage in streamed replies, so they are not streamed "
                           "(time to first token is not measured)")
        return reports is not False

