"""The contracts the layers share: what a sandbox, a kind of task, a scaffold and its model
access must offer, and the values they exchange (steps, stop reasons, verdicts, budgets).

Implementations live elsewhere: sandbox backends (agentbench.sandbox.backends), task kinds
(agentbench.task_kinds), scaffolds (agentbench.agents). Nothing here runs anything.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Protocol

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from langchain_core.messages import AnyMessage

    from agentbench.models.calls import Completion
    from agentbench.tasks.model import Limits


# -- sandboxes ------------------------------------------------------------------------------------

class SandboxError(Exception):
    """The sandbox itself failed (engine gone, container died): not the agent's fault."""


class ContainerExited(Exception):
    """The sandbox's main process was ended from inside (`kill 1`, `kill -9 -1`) while the
    engine still answers: what ran in it did that, not the harness."""


class DiskQuotaExceeded(Exception):
    """What ran in the sandbox wrote more than its disk quota: the agent's failure."""


@dataclass(frozen=True)
class SandboxLimits:
    """Resource limits applied to every container we start."""

    cpus: float = 1.0
    memory: str = "2g"
    pids: int = 512
    output_bytes: int = 1_000_000
    disk_bytes: int = 4 * 2**30  # written to the container's own filesystem; each file is capped at it too


@dataclass(frozen=True)
class ExecResult:
    """What one command did: exit code, captured output (capped) and how long it took."""

    exit_code: int
    stdout: str
    stderr: str
    duration_s: float
    timed_out: bool = False
    truncated: bool = False

    @property
    def output(self) -> str:
        """stdout and stderr together, as a person would read them in a terminal."""
        if self.stdout and self.stderr:
            return f"{self.stdout.rstrip()}\n{self.stderr}"
        return self.stdout or self.stderr


class Sandbox(Protocol):
    """An isolated machine to run commands in, with the working directory the agent starts
    in; closed exactly once by its owner."""

    workdir: str

    def exec(self, command: str, timeout: float = 60, cwd: str | None = None) -> ExecResult: ...

    def read_file(self, path: str) -> str: ...

    def write_file(self, path: str, content: str) -> None: ...

    def copy_in(self, src: Path, dest: str) -> None: ...

    def revive(self) -> None:
        """Start it again if what ran in it ended its main process; its files stay as they were."""

    def snapshot(self) -> str:
        """Stop it and keep its files (not its processes) as a new image; returns the image's
        name, which the factory starts sandboxes from. Whoever takes it removes it."""

    def close(self) -> None: ...

    def __enter__(self) -> Sandbox: ...

    def __exit__(self, *exc) -> None: ...


class SandboxFactory(Protocol):
    """A sandbox backend: starts sandboxes from images and cleans up after a run."""

    def start(self, image: str, labels: dict[str, str], network: bool = False, workdir: str = "/workspace",
              sealed: dict[str, Path] | None = None) -> Sandbox:
        """A fresh sandbox from `image`, carrying `labels`, with the network only when asked; each
        `sealed` host folder's contents at its container path, read-only to every process in it."""

    def remove(self, labels: dict[str, str]) -> int:
        """Remove every sandbox carrying `labels`, running or not; how many there were."""

    def image_digest(self, image: str) -> str:
        """What names the image's exact content (recorded in a run's lock record)."""


# -- tasks and their verdicts ---------------------------------------------------------------------

class RunnableTask(Protocol):
    """What the runner and the agents need of any task."""

    kind: str  # which TaskKind serves it
    id: str
    prompt: str
    limits: Limits
    network: bool  # whether the agent's sandbox may reach the network
    workdir: str  # where the agent works, and what its diff covers
    solution_patch: str | None  # the reference solution, replayed by the `oracle` baseline: a `git diff`
    # of the workdir, or a shell script (its first line `#!`) the oracle runs in the sandbox
    content_hash: str  # changes whenever what the agent or the grader sees changes


class TaskKind(Protocol):
    """The harness's side of one kind of task."""

    def prepare(self, tasks: list[RunnableTask]) -> list[str]:
        """Check and build what these tasks need before any attempt starts; returns notes to
        record with the run (deviations from what the tasks specify)."""

    def image(self, task: RunnableTask) -> str:
        """The image an attempt (and its grading) starts from."""

    def setup(self, sandbox: Sandbox, task: RunnableTask) -> None:
        """Make the fresh sandbox ready for the agent."""

    def capture(self, sandbox: Sandbox, task: RunnableTask) -> str:
        """The agent's work, taken from its sandbox before it is removed, as `grade` takes it
        (and the store keeps it): the workdir's diff, or the name of a snapshot of the sandbox."""

    def grade(self, sandboxes: SandboxFactory, task: RunnableTask, patch: str, labels: dict[str, str]) -> Verdict:
        """The clean-room verdict on the agent's work (what `capture` took), in fresh sandboxes of `sandboxes`."""

    def release(self, task: RunnableTask) -> None:
        """Every attempt of `task` in this run is done."""


@dataclass(frozen=True)
class TestCounts:
    """How many FAIL_TO_PASS and PASS_TO_PASS tests passed and failed."""

    f2p_passed: int
    f2p_failed: int
    p2p_passed: int
    p2p_failed: int


@dataclass(frozen=True)
class Verdict:
    """The grader's decision and the evidence for it."""

    solved: bool
    status: str  # passed | failed | tampered | patch_failed | patch_rejected | check_timeout
    exit_code: int | None
    output: str
    duration_s: float
    tests: TestCounts | None = None  # SWE-bench instances only


# -- scaffolds: budget, model access, steps, how an attempt stops ---------------------------------

class Budget(BaseModel):
    """Ceilings on one attempt; the first one reached ends it. Unset steps and seconds
    fall back on the task's limits; unset tokens and dollars are unlimited."""

    model_config = ConfigDict(extra="forbid")

    steps: int | None = Field(None, gt=0, description="Most model calls.")
    seconds: float | None = Field(None, gt=0, description="Most wall-clock seconds for the agent.")
    tokens: int | None = Field(None, gt=0, description="Most prompt + completion tokens.")
    dollars: float | None = Field(None, gt=0, description="Most USD spent on model calls.")
    command_timeout_s: float = Field(120, gt=0, description="Most seconds one tool command may run.")

    def for_task(self, limits: Limits, step_cap: int | None = None) -> Budget:
        """This budget with the task's limits filled in, steps capped by the scaffold."""
        steps = self.steps or limits.steps
        return self.model_copy(update={
            "steps": min(steps, step_cap) if step_cap else steps,
            "seconds": self.seconds or limits.seconds,
        })


STOP_REASONS = ("submitted", "step_limit", "token_limit", "time_limit", "cost_limit", "context_overflow", "disk_quota",
                "sandbox_killed", "model_timeout", "model_failed",
                "model_error", "sandbox_error", "grader_error")
INFRA_STOPS = {"model_error", "sandbox_error", "grader_error"}  # the endpoint's or the harness's failure, not the agent's


class AttemptStopped(Exception):
    """Raised to end an attempt; `reason` is one of STOP_REASONS and is stored."""

    def __init__(self, reason: str, detail: str = ""):
        if reason not in STOP_REASONS:
            raise ValueError(f"unknown stop reason {reason!r}")
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail

    def __reduce__(self):
        return AttemptStopped, (self.reason, self.detail)


@dataclass
class Step:
    """One model call and the tool calls it made."""

    index: int
    phase: str = "act"
    content: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    tool_results: list[str] = field(default_factory=list)
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cached_tokens: int = 0
    model_s: float = 0.0
    tool_s: float = 0.0
    queue_s: float = 0.0
    ttft_s: float | None = None
    retries: list[dict] = field(default_factory=list)
    note: str = ""
    usage_reported: bool = True  # False: the server did not say what the call took (tokens unknown, not zero)
    call_problem: str | None = None  # what was wrong with the reply's tool calls: "" nothing, None no tools offered


OnStep = Callable[[Step], None]


@dataclass(frozen=True)
class ModelAccess:
    """What a scaffold knows of its model: how to call it, its context window, its prices."""

    complete: Callable[[list[AnyMessage], list[dict], float], Completion]  # messages, tools, seconds left -> reply
    context_window: int | None = None
    price: Callable[[int, int, int], float | None] = lambda prompt, completion, cached: 0.0
    endpoint_problem: Callable[[], str | None] = lambda: None  # None when the endpoint was up when a call failed (liveness)
    up_because: Callable[[], str | None] = lambda: None  # why it was judged up
    overhead: Callable[[], tuple[int, int, int]] = lambda: (0, 0, 0)  # requests, prompt, completion tokens of the harness's own probes


class Agent(Protocol):
    """Works on a task in a sandbox until it raises AttemptStopped."""

    step_cap: int | None  # the scaffold's own ceiling on model calls, if any

    def run(self, prompt: str, sandbox: Sandbox, model: ModelAccess, budget: Budget, on_step: OnStep) -> None: ...
