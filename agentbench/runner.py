"""The attempt loop: every (task, model, agent, epoch) in a fresh sandbox, graded clean-room.

Attempts run on a bounded thread pool (they wait on HTTP and Docker, not on the CPU). Each
step is stored when it happens and each attempt in one transaction when it ends; a run
that is started again under the same name runs only the attempts it lacks.
"""

from __future__ import annotations

import json
import threading
import time
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Callable

import docker
from sqlmodel import Session, delete, select

from agentbench import __version__
from agentbench.agents import get_agent
from agentbench.agents.base import AttemptStopped, ModelAccess, Step
from agentbench.benches import Bench, FolderBench, RunnableTask
from agentbench.cost import attempt_cost_usd, expected_cost_usd, token_cost_usd
from agentbench.cost_cap import CostCap
from agentbench.daemon_pool import DaemonPool
from agentbench.errors import UserError
from agentbench.estimate import History
from agentbench.grading import (
    BrokenTask,
    GraderError,
    Verdict,
    graded_status,
    read_or_none,
    test_columns,
)
from agentbench.lock import build_lock, changed_groups
from agentbench.lookups import (
    GIT_TRACE_PATH,
    TRACE_SETUP,
    lookup_flags,
    traced_git_commands,
)
from agentbench.metrics import total_cost
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
from agentbench.sandbox import ContainerExited, DiskQuotaExceeded, SandboxError
from agentbench.sandbox.docker import DockerSandbox, remove_containers
from agentbench.spec import RunSpec
from agentbench.store import (
    AttemptRow,
    RunRow,
    StepRow,
    attempt_id,
    attempts_of_models,
    utcnow,
)
from agentbench.workspace import WorkspaceRejected, workspace_diff

INFRA_STOPS = {"model_error", "sandbox_error", "grader_error"}  # the endpoint's or the harness's failure, not the agent's
RETRIED_STOPS = {"sandbox_error", "grader_error"}  # model calls have their own retries
STOP_GRACE_S = 5.0  # how long an interrupted run waits for attempts in flight to notice


@dataclass(frozen=True)
class Attempt:
    """One cell of the run matrix."""

    task: RunnableTask
    profile: ModelProfile
    agent: str
    epoch: int


class Runner:
    """Runs a RunSpec against the store.

    `benches` serve each kind of task (default: task folders only). Callbacks: `on_status`
    hears set-up progress (image builds), `on_start` the number of attempts to run,
    `on_attempt` each attempt as it is stored.
    """

    def __init__(self, spec: RunSpec, engine, client: docker.DockerClient, profiles: list[ModelProfile],
                 tasks: list[RunnableTask], on_attempt: Callable[[AttemptRow], None] = lambda row: None,
                 on_status: Callable[[str], None] = lambda line: None, on_start: Callable[[int], None] = lambda n: None,
                 benches: dict[str, Bench] | None = None):
        self.spec = spec
        self.engine = engine
        self.client = client
        self.profiles = profiles
        self.tasks = tasks
        self.on_attempt = on_attempt
        self.on_status = on_status
        self.on_start = on_start
        self.stopping = threading.Event()
        self.labels = {"agentbench.run": spec.name}
        self.endpoints: dict[str, Endpoint] = {}
        self.launchers: dict[str, Launcher] = {}  # servers to start, per self-hosted profile without one
        self.gates: dict[str, threading.BoundedSemaphore] = {}  # per profile; profiles on one endpoint share theirs
        self.streaming: dict[str, Streaming] = {}  # per profile: streamed until a stream comes without usage
        self.benches = benches or {"folder": FolderBench(client, progress=on_status)}
        self.builtin: BuiltinModels | None = None
        self.left: Counter[str] = Counter()  # attempts still to finish, per task id
        self._left_lock = threading.Lock()
        self.served: dict[str, dict] = {}  # per profile: what its server reports (model id, version)
        self.image_digests: dict[str, str] = {}  # per image the attempts ran in
        self.task_hashes = {task.id: task.content_hash for task in tasks}  # read once: the lock is written twice
        self.cap: CostCap | None = None
        self.history = History([])

    def pending(self) -> list[Attempt]:
        return pending_attempts(self.engine, self.spec, self.tasks, self.profiles)

    def prepare(self, attempts: list[Attempt]) -> None:
        """Check everything a user can get wrong, and build what the attempts need, before any starts."""
        for name in self.spec.agents:
            get_agent(name)
        unpriced = [p.name for p in self.profiles if token_cost_usd(p, 0, 0) is None]
        for asked, flag in ((self.spec.budget.dollars, "the dollar budget"), (self.spec.max_cost, "--max-cost")):
            if asked is not None and unpriced:
                raise UserError(f"{flag[0].upper() + flag[1:]} needs per-token prices, and profile(s) {', '.join(unpriced)} have none "
                                f"(self-hosted cost is only known when the run ends); add `prices` or drop {flag}.")
        if self.spec.max_cost is not None:
            past = attempts_of_models(self.engine, self.spec.models)
            self.history = History(past)
            self.cap = CostCap(self.spec.max_cost, sum(row.cost_usd or 0.0 for row in past if row.run == self.spec.name))
        for profile in self.profiles:
            if profile.provider in SELF_HOSTED and not profile.resolved_base_url(self.spec.base_url):
                self.launchers[profile.name] = launcher_for(profile)
            elif profile.provider != "builtin":
                endpoint = endpoint_for(profile, self.spec.base_url)
                self.served[profile.name] = check_reachable(endpoint, profile.name)
                self.endpoints[profile.name] = endpoint
            else:
                self.served[profile.name] = {"model": profile.resolved_model(), "builtin": True}
        notes = ["the agents' sandboxes could reach the network (--network)"] if self.spec.network else []
        tasks = list({attempt.task.id: attempt.task for attempt in attempts}.values())
        for kind in sorted({task.kind for task in tasks}):
            if kind not in self.benches:
                raise UserError(f"This run cannot serve tasks of kind {kind!r}.")
            notes += self.benches[kind].prepare([task for task in tasks if task.kind == kind])
        self.left = Counter(attempt.task.id for attempt in attempts)
        self._record_run(notes)

    def run(self) -> str:
        """Run every pending attempt; returns the run's final status."""
        attempts = self.pending()
        self.prepare(attempts)
        self.on_start(len(attempts))
        pool = DaemonPool(self.spec.workers, self.stopping)
        try:
            with ExitStack() as stack:
                self._start_models(stack)
                pool.run(self.run_attempt, attempts)
        except BaseException:  # the servers we started are stopped by now
            self.stopping.set()
            remove_containers(self.client, self.labels)
            self._finish("interrupted")
            pool.join(STOP_GRACE_S)
            remove_containers(self.client, self.labels)  # any that a worker started while the run stopped
            raise
        status = "capped" if self.cap and self.cap.hit else "completed"
        if status == "capped":
            self._add_notes([f"the run's cost cap of ${self.cap.max_usd:g} was reached: {self.cap.not_started} attempt(s) "
                             f"not started, ${self.cap.spent_usd:.4f} spent; resume with a higher --max-cost to run them"])
        self._finish(status)
        return status

    def _start_models(self, stack: ExitStack) -> None:
        """Start or attach the run's self-hosted servers and the builtin models, their gates and
        streaming switches; all of them stop when `stack` closes."""
        servers = stack.enter_context(RunServers(self.engine, self.spec.name, self.on_status))
        for profile in self.profiles:
            if profile.name in self.launchers:
                self.endpoints[profile.name] = servers.start(profile, self.launchers[profile.name])
                self.served[profile.name] = served_facts(self.endpoints[profile.name])
            elif profile.provider in SELF_HOSTED:
                servers.attach(profile, self.endpoints[profile.name])
        self.gates = endpoint_gates(self.profiles, self.endpoints)
        self.streaming = {profile.name: Streaming(self._may_stream(profile)) for profile in self.profiles}
        self._record_lock(starting=True)
        if any(p.provider == "builtin" for p in self.profiles):
            self.builtin = stack.enter_context(BuiltinModels({t.id: t.solution_patch for t in self.tasks}))

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

    def run_attempt(self, attempt: Attempt) -> AttemptRow | None:
        """One attempt, end to end, tried again (up to the spec's infra_retries) when the sandbox
        or the grader failed; None when the run is stopping or the cost cap leaves no room for it."""
        if not self._may_start(attempt):
            self._attempt_done(attempt.task)
            return None
        earlier: list[AttemptRow] = []
        for tries in range(self.spec.infra_retries + 1):
            row = self._try(attempt, tries, total_cost(r.cost_usd for r in earlier) or 0.0)
            if row is None:
                return None
            if not retryable(row) or tries == self.spec.infra_retries:
                break
            earlier.append(row)
            self.on_status(f"{row.task} {row.model}/{row.agent}#{row.epoch}: {row.stop_reason} ({row.detail[:200]}); trying again")
        add_earlier_tries(row, earlier)
        self._attempt_done(attempt.task)
        with Session(self.engine) as session:
            session.add(row)
            session.commit()
            session.refresh(row)
        if self.cap:
            self.cap.finish(row.id, row.cost_usd or 0.0)
            self.history.add(row)
        self.on_attempt(row)
        return row

    def _may_start(self, attempt: Attempt) -> bool:
        """Whether the cost cap (if any) leaves room for the attempt at its expected cost: the
        per-attempt dollar budget where set, else the mean of past attempts like it."""
        if self.cap is None:
            return True
        expected = self.spec.budget.dollars
        if expected is None:
            expected = expected_cost_usd(attempt.profile, self.history.expected(attempt.task.id, attempt.profile.name, attempt.agent)) or 0.0
        if self.cap.try_start(self._id(attempt), expected):
            return True
        if self.cap.not_started == 1:
            self.on_status(f"cost cap ${self.cap.max_usd:g} reached (${self.cap.spent_usd:.4f} spent): no new attempt starts")
        return False

    def _try(self, attempt: Attempt, number: int, spent_before: float) -> AttemptRow | None:
        """One try of an attempt, its steps stored as they happen and the row returned unsaved;
        the first try clears steps an interrupted session left."""
        if self.stopping.is_set():
            return None
        key = self._id(attempt)
        if number == 0:
            with Session(self.engine) as session:
                session.exec(delete(StepRow).where(StepRow.attempt_id == key))
                session.commit()
        steps: list[Step] = []
        started_at, started = utcnow(), time.monotonic()
        labels = {**self.labels, "agentbench.role": "agent"}
        task, bench = attempt.task, self.benches[attempt.task.kind]
        patch, verdict, ran = "", None, []
        try:
            image = bench.image(task)  # a task's first attempt may build its image: not the attempt's time
            self._note_image(image)
            started_at, started = utcnow(), time.monotonic()
            network = task.network or self.spec.network
            with DockerSandbox.start(self.client, image, labels=labels, network=network, workdir=task.workdir) as box:
                bench.setup(box, task)
                box.exec(TRACE_SETUP)  # git records what it runs: look-ups are seen however they were spelled
                stop = self._run_agent(attempt, box, key, steps, number, spent_before)
                ran = traced_git_commands(read_or_none(box, GIT_TRACE_PATH))
                if stop.reason not in INFRA_STOPS:
                    box.revive()  # an agent that ended its container's main process still leaves its work
                    try:
                        patch = workspace_diff(box)
                    except (WorkspaceRejected, DiskQuotaExceeded, ContainerExited) as exc:
                        verdict = Verdict(False, "patch_rejected", None, str(exc), 0.0)
        except (SandboxError, docker.errors.DockerException) as exc:
            stop = AttemptStopped("sandbox_error", str(exc))
        wall_s = time.monotonic() - started
        if stop.reason not in INFRA_STOPS and verdict is None:
            try:
                verdict = bench.grade(task, patch, self.labels)
            except BrokenTask as exc:
                stop, verdict = AttemptStopped("grader_error", str(exc)), Verdict(False, "broken", None, str(exc), 0.0)
            except (GraderError, SandboxError, docker.errors.DockerException) as exc:
                stop = AttemptStopped("grader_error", str(exc))
        if self.stopping.is_set():
            return None
        return self._row(attempt, key, stop, steps, patch, verdict, wall_s, started_at, ran)

    def _run_agent(self, attempt: Attempt, box: DockerSandbox, key: str, steps: list[Step], number: int,
                   spent_before: float) -> AttemptStopped:
        endpoint, profile = self._endpoint(attempt), attempt.profile
        agent = get_agent(attempt.agent)
        budget = self.spec.budget.for_task(attempt.task.limits, agent.step_cap)
        caller = ModelCaller(endpoint, profile.retry, self.gates[profile.name], self.streaming[profile.name])
        model = ModelAccess(
            complete=caller.complete,
            context_window=profile.context_tokens(),
            price=lambda prompt, completion, cached: token_cost_usd(profile, prompt, completion, cached),
        )

        def on_step(step: Step) -> None:
            steps.append(step)
            self._store_step(key, step, number)
            if self.cap:
                tokens = [sum(getattr(s, field) for s in steps) for field in ("prompt_tokens", "completion_tokens", "cached_tokens")]
                self.cap.spend(key, spent_before + (token_cost_usd(profile, *tokens) or 0.0))

        try:
            agent.run(attempt.task.prompt, box, model, budget, on_step)
        except AttemptStopped as stop:
            return judged_model_error(stop, endpoint) if stop.reason == "model_error" else stop
        raise RuntimeError(f"agent {attempt.agent} returned without a stop reason")

    def _endpoint(self, attempt: Attempt) -> Endpoint:
        if attempt.profile.provider == "builtin":
            return Endpoint(self.builtin.base_url(attempt.task.id, attempt.epoch), attempt.profile.resolved_model(), "none")
        return self.endpoints[attempt.profile.name]

    def _store_step(self, key: str, step: Step, number: int) -> None:
        row = StepRow(
            attempt_id=key, try_number=number, index=step.index, phase=step.phase, content=step.content, note=step.note,
            tool_calls_json=json.dumps(step.tool_calls), tool_results_json=json.dumps(step.tool_results),
            prompt_tokens=step.prompt_tokens, completion_tokens=step.completion_tokens, cached_tokens=step.cached_tokens,
            model_s=step.model_s, tool_s=step.tool_s, queue_s=step.queue_s, ttft_s=step.ttft_s,
            retries_json=json.dumps(step.retries), usage_reported=step.usage_reported, call_problem=step.call_problem,
        )
        with Session(self.engine) as session:
            session.add(row)
            session.commit()

    def _row(self, attempt, key, stop, steps, patch, verdict, wall_s, started_at, ran) -> AttemptRow:
        prompt = sum(s.prompt_tokens for s in steps)
        completion = sum(s.completion_tokens for s in steps)
        cached = sum(s.cached_tokens for s in steps)
        solved = bool(verdict and verdict.solved)
        status = "error" if stop.reason in INFRA_STOPS else graded_status(verdict)
        unreported = sum(1 for s in steps if not s.usage_reported)
        checked = [s.call_problem for s in steps if s.call_problem is not None]
        return AttemptRow(
            id=key, run=self.spec.name, task=attempt.task.id, model=attempt.profile.name, agent=attempt.agent,
            epoch=attempt.epoch, baseline=attempt.profile.baseline, solved=solved, status=status,
            stop_reason=stop.reason, detail=stop.detail[:2000], grade_status=verdict.status if verdict else None,
            wall_s=wall_s, model_s=sum(s.model_s for s in steps), tool_s=sum(s.tool_s for s in steps),
            grade_s=verdict.duration_s if verdict else 0.0, steps=len(steps),
            queue_s=sum(s.queue_s for s in steps), retries=sum(len(s.retries) for s in steps),
            prompt_tokens=prompt, completion_tokens=completion, cached_tokens=cached,
            cost_usd=attempt_cost_usd(attempt.profile, prompt, completion, cached, unreported),
            unreported_calls=unreported, tool_call_checks=len(checked), valid_tool_calls=checked.count(""),
            **test_columns(verdict.tests if verdict else None),
            flags=",".join(lookup_flags([call for s in steps for call in s.tool_calls], ran)),
            patch=patch, check_output=verdict.output if verdict else "", started_at=started_at,
        )

    def _attempt_done(self, task: RunnableTask) -> None:
        """Count the attempt off; after a task's last one, its bench may release what it holds."""
        with self._left_lock:
            self.left[task.id] -= 1
            last = self.left[task.id] == 0
        if last:
            self.benches[task.kind].release(task)

    def _id(self, attempt: Attempt) -> str:
        return attempt_id(self.spec.name, attempt.task.id, attempt.profile.name, attempt.agent, attempt.epoch)

    def _record_run(self, notes: list[str]) -> None:
        with Session(self.engine) as session:
            row = session.get(RunRow, self.spec.name) or RunRow(name=self.spec.name, spec_json="", agentbench_version=__version__)
            row.spec_json, row.status, row.finished_at = self.spec.model_dump_json(), "running", None
            row.profiles_json = json.dumps({p.name: p.model_dump(mode="json", exclude={"name"}) for p in self.profiles})
            session.add(row)
            session.commit()
        self._add_notes(notes)

    def _add_notes(self, notes: list[str]) -> None:
        """Add notes to the run's, each once."""
        with Session(self.engine) as session:
            row = session.get(RunRow, self.spec.name)
            row.notes_json = json.dumps(list(dict.fromkeys([*json.loads(row.notes_json or "[]"), *notes])))
            session.add(row)
            session.commit()

    def _note_image(self, image: str) -> None:
        if image not in self.image_digests:
            attrs = self.client.images.get(image).attrs
            self.image_digests[image] = (attrs.get("RepoDigests") or [attrs["Id"]])[0]

    def _record_lock(self, starting: bool = False) -> None:
        """Store the run's lock record, keeping the images of a resumed run's earlier sessions;
        when a session starts, note what else changed since the last one."""
        lock = build_lock(self.spec, self.profiles, self.task_hashes, self.served, dict(self.image_digests))
        changed: list[str] = []
        with Session(self.engine) as session:
            row = session.get(RunRow, self.spec.name)
            previous = json.loads(row.lock_json or "{}")
            if previous and starting:
                same = [(f"{model}/{agent}", f"{model}/{agent}") for model in self.spec.models for agent in self.spec.agents]
                changed = [path for group, paths in changed_groups(previous, lock, same).items() if group != "images"
                           for path in paths]
            lock["images"] = {**previous.get("images", {}), **lock["images"]}
            row.lock_json = json.dumps(lock)
            session.add(row)
            session.commit()
        if changed:
            self._add_notes([f"resumed under a different lock record: {', '.join(changed[:6])}"])

    def _finish(self, status: str) -> None:
        self._record_lock()
        with Session(self.engine) as session:
            row = session.get(RunRow, self.spec.name)
            row.status, row.finished_at = status, utcnow()
            session.add(row)
            session.commit()


def judged_model_error(stop: AttemptStopped, endpoint: Endpoint) -> AttemptStopped:
    """A failed model call stays an infrastructure error only when the endpoint fails a plain
    request too; an endpoint that answers others but failed this conversation (an error status,
    a dropped connection) failed the configuration, so the attempt counts in the rate."""
    problem = probe_chat(endpoint)
    if problem is None:
        return AttemptStopped("model_failed", f"{stop.detail}; the endpoint answered a plain request right after, "
                                              "so this conversation's failure is the configuration's")
    return AttemptStopped("model_error", f"{stop.detail}; a plain request failed too ({problem})")


def retryable(row: AttemptRow) -> bool:
    """Whether a try ended in a failure of the harness that another try may not repeat (a broken
    task fails the same way every time)."""
    return row.stop_reason in RETRIED_STOPS and row.grade_status != "broken"


def add_earlier_tries(row: AttemptRow, earlier: list[AttemptRow]) -> None:
    """Count the tries before `row` (the last) into its totals: their tokens and cost are spent
    too, and are also kept apart so that reports can say what retries cost."""
    row.infra_retries = len(earlier)
    row.retry_tokens = sum(r.prompt_tokens + r.completion_tokens for r in earlier)
    row.retry_cost_usd = total_cost(r.cost_usd for r in earlier)
    row.retry_wall_s = sum(r.wall_s for r in earlier)
    row.prompt_tokens += sum(r.prompt_tokens for r in earlier)
    row.completion_tokens += sum(r.completion_tokens for r in earlier)
    row.cached_tokens += sum(r.cached_tokens for r in earlier)
    row.cost_usd = total_cost([row.cost_usd, *(r.cost_usd for r in earlier)])
    row.retries += sum(r.retries for r in earlier)


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


def pending_attempts(engine, spec: RunSpec, tasks: list[RunnableTask], profiles: list[ModelProfile]) -> list[Attempt]:
    """The attempts of the run's matrix that the store does not hold yet."""
    with Session(engine) as session:
        done = set(session.exec(select(AttemptRow.id).where(AttemptRow.run == spec.name)))
    cells = [Attempt(t, p, a, e) for e in range(spec.epochs) for t in tasks for p in profiles for a in spec.agents]
    return [c for c in cells if attempt_id(spec.name, c.task.id, c.profile.name, c.agent, c.epoch) not in done]


def check_suite_ids(tasks: list[RunnableTask]) -> None:
    """Two suites may not bring the same task id into one run."""
    seen: set[str] = set()
    for task in tasks:
        if task.id in seen:
            raise UserError(f"Task id {task.id!r} appears twice in this run; give each suite a distinct folder name.")
        seen.add(task.id)
