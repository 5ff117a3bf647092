"""The Sandbox contract every backend implements, and the values it exchanges."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol


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

    def close(self) -> None: ...

    def __enter__(self) -> Sandbox: ...

    def __exit__(self, *exc) -> None: ...


class SandboxFactory(Protocol):
    """A sandbox backend: starts sandboxes from images and cleans up after a run."""

    def start(self, image: str, labels: dict[str, str], network: bool = False, workdir: str = "/workspace") -> Sandbox:
        """A fresh sandbox from `image`, carrying `labels`, with the network only when asked."""

    def remove(self, labels: dict[str, str]) -> int:
        """Remove every sandbox carrying `labels`, running or not; how many there were."""

    def image_digest(self, image: str) -> str:
        """What names the image's exact content (recorded in a run's lock record)."""
