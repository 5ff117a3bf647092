"""The run: every (task, model, agent, epoch) attempted once, on a bounded pool of threads.

The runner schedules attempts (agentbench.attempt runs each), tries again those the sandbox or
the grader failed, keeps the run within its cost cap, and has the recorder store each step as it
happens and each attempt when it ends; a run started again under the same name runs only the
attempts it lacks.
"""

from __future__ import annotations

import json
import threading
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass
from typing import Callable

from agentbench.agents import get_agent
from agentbench.attempt import AttemptJob, AttemptResult
from agentbench.contracts import RunnableTask, SandboxFactory, Step, TaskKind
from agentbench.cost import expected_cost_usd, token_cost_usd
from agentbench.cost_cap import CostCap
from agentbench.sequential import DecisionGate, brief, decision_gate, decision_plan, task_order
from agentbench.daemon_pool import DaemonPool
from agentbench.errors import UserError
from agentbench.estimate import History
from agentbench.executors import Executor, LocalExecutor
from agentbench.lock import build_lock, changed_groups
from agentbench.metrics import total_cost
from agentbench.models.profiles import ModelProfile
from agentbench.models.run_models import RunModels
from agentbench.recorder import RunRecorder, attempt_row
from agentbench.spec import RunSpec
from agentbench.store import (
    AttemptRow,
    attempt_id,
    attempts_of_models,
    stored_attempt_ids,
)
from agentbench.task_kinds import FolderTasks

RETRIED_STOPS = {"sandbox_error", "grader_error"}  # model calls have their own retries
CAP_NOTE = "the run's cost cap of"  # how the note on a reached cap begins
STOP_GRACE_S = 5.0  # how long an interrupted run waits for attempts in flight to notice


@dataclass(frozen=True)
class Attempt:
    """One cell of the run matrix."""

    task: RunnableTask
    profile: ModelProfile
    agent: str
    epoch: int


class Runner:
    """Runs a RunSpec against the store, in sandboxes from `sandboxes`.

    `kinds` serve each kind of task (default: task folders, on Docker). Callbacks: `on_status`
    hears set-up progress (image builds), `on_start` the number of attempts to run,
    `on_attempt` each attempt as it is stored.
    """

    def __init__(self, spec: RunSpec, engine, sandboxes: SandboxFactory, profiles: list[ModelProfile],
                 tasks: list[RunnableTask], on_attempt: Callable[[AttemptRow], None] = lambda row: None,
                 on_status: Callable[[str], None] = lambda line: None, on_start: Callable[[int], None] = lambda n: None,
                 kinds: dict[str, TaskKind] | None = None, executor: Executor | None = None):
        self.spec = spec
        self.engine = engine
        self.sandboxes = sandboxes
        self.profiles = profiles
        self.tasks = tasks
        self.on_attempt = on_attempt
        self.on_status = on_status
        self.on_start = on_start
        self.recorder = RunRecorder(engine, spec.name)
        self.executor = executor or LocalExecutor(sandboxes)
        self.models = RunModels(profiles, spec.base_url, {t.id: t.solution_patch for t in tasks}, on_status,
                                self.executor.reached_at)
        self.kinds = kinds or {"folder": FolderTasks(sandboxes.client, progress=on_status)}
        self.stopping = threading.Event()
        self.labels = {"agentbench.run": spec.name}
        self.left: Counter[str] = Counter()  # attempts still to finish, per task id
        self._left_lock = threading.Lock()
        self.image_digests: dict[str, str] = {}  # per image the attempts ran in
        self.node_images: dict[str, dict[str, str]] = {}  # per node, the digest of each image it ran attempts in
        self.task_hashes = {task.id: task.content_hash for task in tasks}  # read once: the lock is written twice
        self.cap: CostCap | None = None
        self.decision: DecisionGate | None = None
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
        self.decision = decision_gate(self.spec, self.engine, self.tasks, self.profiles)
        self.models.check()
        notes = ["the agents' sandboxes could reach the network (--network)"] if self.spec.network else []
        tasks = list({attempt.task.id: attempt.task for attempt in attempts}.values())
        for kind in sorted({task.kind for task in tasks}):
            if kind not in self.kinds:
                raise UserError(f"This run cannot serve tasks of kind {kind!r}.")
            notes += self.kinds[kind].prepare([task for task in tasks if task.kind == kind])
        self.left = Counter(attempt.task.id for attempt in attempts)
        profiles = {p.name: p.model_dump(mode="json", exclude={"name"}) for p in self.profiles}
        self.recorder.start(self.spec.model_dump_json(), json.dumps(profiles), notes, labels=self.spec.labels)
        self.recorder.drop_notes(CAP_NOTE)  # an earlier session's cap; this one notes its own if it is reached
        if self.decision is not None:
            self.recorder.write_plan(decision_plan(self.spec, self.tasks, self.profiles))

    def run(self) -> str:
        """Run every pending attempt; returns the run's final status."""
        attempts = self.pending()
        self.prepare(attempts)
        self.on_start(len(attempts))
        pool = DaemonPool(self.executor.slots or self.spec.workers, self.stopping)
        try:
            with ExitStack() as stack:
                self.models.start(stack, self.recorder)
                self._record_lock(starting=True)
                pool.run(self.run_cell, attempts)
        except BaseException:  # the servers we started are stopped by now
            self.stopping.set()
            self.executor.remove_sandboxes(self.labels)
            self._finish("interrupted")
            pool.join(STOP_GRACE_S)
            self.executor.remove_sandboxes(self.labels)  # any that a worker started while the run stopped
            raise
        self.executor.remove_sandboxes(self.labels)  # what a lost node's tries left on the nodes still here
        status = "capped" if self.cap and self.cap.hit else "completed"
        if status == "capped":
            self.recorder.add_notes([f"{CAP_NOTE} ${self.cap.max_usd:g} was reached: {self.cap.not_started} attempt(s) "
                                     f"not started, ${self.cap.spent_usd:.4f} spent; resume with a higher --max-cost to run them"])
        self._finish(status)
        return status

    def run_cell(self, attempt: Attempt) -> AttemptRow | None:
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
        row = self.recorder.add_attempt(row)
        if self.decision is not None:
            self.decision.add(brief(row))
        if self.cap:
            self.cap.finish(row.id, row.cost_usd or 0.0)
            self.history.add(row)
        self.on_attempt(row)
        return row

    def _may_start(self, attempt: Attempt) -> bool:
        """Whether a decided run's sequence is still undecided, and the cost cap (if any) leaves
        room for the attempt at its expected cost: the per-attempt dollar budget where set, else
        the mean of past attempts like it."""
        if self.decision is not None and not self.decision.allows():
            return False
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
        """One try of an attempt, its steps stored as they happen and its row returned unsaved;
        the first try clears steps an interrupted session left. None when the run is stopping."""
        if self.stopping.is_set():
            return None
        key, profile = self._id(attempt), attempt.profile
        if number == 0:
            self.recorder.clear_steps(key)
        steps: list[Step] = []

        def on_step(step: Step) -> None:
            steps.append(step)
            self.recorder.add_step(key, number, step)
            if self.cap:
                tokens = [sum(getattr(s, field) for s in steps) for field in ("prompt_tokens", "completion_tokens", "cached_tokens")]
                self.cap.spend(key, spent_before + (token_cost_usd(profile, *tokens) or 0.0))

        job = AttemptJob(attempt.task, self.kinds[attempt.task.kind], self.sandboxes, attempt.agent,
                         self.models.route(profile, attempt.task.id, attempt.epoch), self.spec.budget, self.labels,
                         attempt.task.network or self.spec.network)
        result = self.executor.run(f"{key}#{number}", job, on_step)
        if self.stopping.is_set():
            return None
        self._note_image(result)
        return attempt_row(self.spec.name, key, attempt.task.id, profile, attempt.agent, attempt.epoch, result)

    def _attempt_done(self, task: RunnableTask) -> None:
        """Count the attempt off; after a task's last one, its kind may release what it holds."""
        with self._left_lock:
            self.left[task.id] -= 1
            last = self.left[task.id] == 0
        if last:
            self.kinds[task.kind].release(task)

    def _id(self, attempt: Attempt) -> str:
        return attempt_id(self.spec.name, attempt.task.id, attempt.profile.name, attempt.agent, attempt.epoch)

    def _note_image(self, result: AttemptResult) -> None:
        if result.image and result.image_digest:
            self.image_digests.setdefault(result.image, result.image_digest)
            self.node_images.setdefault(result.node or "", {})[result.image] = result.image_digest

    def _record_lock(self, starting: bool = False) -> None:
        """Store the run's lock record, keeping the images of a resumed run's earlier sessions;
        when a session starts, note what else changed since the last one."""
        lock = build_lock(self.spec, self.profiles, self.task_hashes, self.models.served, dict(self.image_digests))
        previous = self.recorder.lock()
        changed: list[str] = []
        if previous and starting:
            same = [(f"{model}/{agent}", f"{model}/{agent}") for model in self.spec.models for agent in self.spec.agents]
            changed = [path for group, paths in changed_groups(previous, lock, same).items() if group != "images"
                       for path in paths]
        lock["images"] = {**previous.get("images", {}), **lock["images"]}
        lock["nodes"] = [{**node, "images": self.node_images.get(node["node"], {})} for node in self.executor.nodes]
        self.recorder.write_lock(lock)
        if changed:
            self.recorder.add_notes([f"resumed under a different lock record: {', '.join(changed[:6])}"])

    def _finish(self, status: str) -> None:
        self._record_lock()
        self.recorder.finish(status)


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


def pending_attempts(engine, spec: RunSpec, tasks: list[RunnableTask], profiles: list[ModelProfile]) -> list[Attempt]:
    """The attempts of the run's matrix that the store does not hold yet."""
    done = stored_attempt_ids(engine, spec.name)
    if spec.decide:  # task by task in the seeded order, both configurations of an epoch side by side
        by_id = {t.id: t for t in tasks}
        cells = [Attempt(by_id[t], p, a, e) for t in task_order(list(by_id), spec.name) for e in range(spec.epochs)
                 for p in profiles for a in spec.agents]
    else:
        cells = [Attempt(t, p, a, e) for e in range(spec.epochs) for t in tasks for p in profiles for a in spec.agents]
    return [c for c in cells if attempt_id(spec.name, c.task.id, c.profile.name, c.agent, c.epoch) not in done]


def check_suite_ids(tasks: list[RunnableTask]) -> None:
    """Two suites may not bring the same task id into one run."""
    seen: set[str] = set()
    for task in tasks:
        if task.id in seen:
            raise UserError(f"Task id {task.id!r} appears twice in this run; give each suite a distinct folder name.")
        seen.add(task.id)
