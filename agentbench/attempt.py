"""One attempt, as a function: a task in a fresh sandbox, a scaffold driving a model until it
stops, the workspace's diff graded clean-room. It writes no store and keeps no run state, so it
can run in any thread, process or machine; the runner records what it returns.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from datetime import datetime

import docker

from agentbench.agents import get_agent
from agentbench.contracts import (
    INFRA_STOPS,
    AttemptStopped,
    Budget,
    ContainerExited,
    DiskQuotaExceeded,
    ModelAccess,
    OnStep,
    RunnableTask,
    SandboxError,
    SandboxFactory,
    Step,
    TaskKind,
    Verdict,
)
from agentbench.grading import BrokenTask, GraderError, read_or_none
from agentbench.lookups import GIT_TRACE_PATH, TRACE_SETUP, traced_git_commands
from agentbench.models.route import ModelRoute
from agentbench.store import utcnow
from agentbench.workspace import WorkspaceRejected


@dataclass(frozen=True)
class AttemptJob:
    """What an attempt needs: the task and its kind, where sandboxes come from, the scaffold by
    name, the model, the budget, and the labels its sandboxes carry."""

    task: RunnableTask
    kind: TaskKind
    sandboxes: SandboxFactory
    agent: str
    model: ModelRoute
    budget: Budget
    labels: dict[str, str]
    network: bool = False


@dataclass
class AttemptResult:
    """What an attempt did: how it stopped, its steps, its patch and verdict, its timings."""

    stop: AttemptStopped
    steps: list[Step] = field(default_factory=list)
    patch: str = ""
    verdict: Verdict | None = None
    wall_s: float = 0.0
    started_at: datetime = field(default_factory=utcnow)
    git_commands: list[str] = field(default_factory=list)  # what git ran in the sandbox (look-ups)
    image: str | None = None
    image_digest: str | None = None  # of the image on the machine that ran it
    node: str | None = None  # the machine it ran on, as its executor names it
    harness_tokens: tuple[int, int, int] = (0, 0, 0)  # requests, prompt, completion tokens of the harness's own probes


def run_attempt(job: AttemptJob, on_step: OnStep = lambda step: None) -> AttemptResult:
    """Run one attempt to its verdict; `on_step` hears each step as it happens. Failures of the
    sandbox, the endpoint or the grader come back as their stop reasons, never raised."""
    result = AttemptResult(AttemptStopped("sandbox_error", "the attempt did not start"))

    def record(step: Step) -> None:
        result.steps.append(step)
        on_step(step)

    started = time.monotonic()
    try:
        result.image = job.kind.image(job.task)  # a task's first attempt may build its image: not the attempt's time
        result.image_digest = job.sandboxes.image_digest(result.image)
        result.started_at, started = utcnow(), time.monotonic()
        with job.sandboxes.start(result.image, {**job.labels, "agentbench.role": "agent"}, network=job.network,
                                 workdir=job.task.workdir) as box:
            job.kind.setup(box, job.task)
            box.exec(TRACE_SETUP)  # git records what it runs: look-ups are seen however they were spelled
            result.stop, result.harness_tokens = _run_scaffold(job, box, record)
            result.git_commands = traced_git_commands(read_or_none(box, GIT_TRACE_PATH))
            if result.stop.reason not in INFRA_STOPS:
                box.revive()  # an agent that ended its sandbox's main process still leaves its work
                try:
                    result.patch = job.kind.capture(box, job.task)
                except (WorkspaceRejected, DiskQuotaExceeded, ContainerExited) as exc:
                    result.verdict = Verdict(False, "patch_rejected", None, str(exc), 0.0)
    except (SandboxError, docker.errors.DockerException) as exc:
        result.stop = AttemptStopped("sandbox_error", str(exc))
    result.wall_s = time.monotonic() - started
    if result.stop.reason not in INFRA_STOPS and result.verdict is None:
        _grade(job, result)
    return result


def _run_scaffold(job: AttemptJob, box, on_step: OnStep) -> tuple[AttemptStopped, tuple[int, int, int]]:
    """How the scaffold stopped, and the tokens the harness itself spent on its model (probes)."""
    agent = get_agent(job.agent)
    budget = job.budget.for_task(job.task.limits, agent.step_cap)
    model = job.model.access()
    try:
        agent.run(job.task.prompt, box, model, budget, on_step)
    except AttemptStopped as stop:
        stop = judged_model_error(stop, model) if stop.reason == "model_error" else stop
        return stop, model.overhead()
    raise RuntimeError(f"agent {job.agent} returned without a stop reason")


def _grade(job: AttemptJob, result: AttemptResult) -> None:
    try:
        result.verdict = job.kind.grade(job.sandboxes, job.task, result.patch, job.labels)
    except BrokenTask as exc:
        result.stop, result.verdict = AttemptStopped("grader_error", str(exc)), Verdict(False, "broken", None, str(exc), 0.0)
    except (GraderError, SandboxError, docker.errors.DockerException) as exc:
        result.stop = AttemptStopped("grader_error", str(exc))


def judged_model_error(stop: AttemptStopped, model: ModelAccess) -> AttemptStopped:
    """A failed model call stays an infrastructure error only when the endpoint was down
    (agentbench.models.liveness); an endpoint that was up but failed this conversation (an error
    status, a dropped connection) failed the configuration, so the attempt counts in the rate."""
    problem = model.endpoint_problem()
    if problem is None:
        return AttemptStopped("model_failed", f"{stop.detail}; {model.up_because()}, "
                                              "so this conversation's failure is the configuration's")
    return AttemptStopped("model_error", f"{stop.detail}; the endpoint answered no call since, and not this attempt's "
                                         f"first request again after a pause either ({problem})")
