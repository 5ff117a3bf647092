"""The Task model: one task.yaml, validated when it is loaded."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field


class Limits(BaseModel):
    """Per-task ceilings on an attempt."""

    model_config = ConfigDict(extra="forbid")

    steps: int = Field(30, gt=0, description="Most model calls an attempt may make.")
    seconds: float = Field(600, gt=0, description="Wall-clock seconds an attempt may take.")


class TaskFile(BaseModel):
    """The fields of task.yaml, exactly as a task author writes them."""

    model_config = ConfigDict(extra="forbid")

    prompt: str = Field(min_length=1, description="What the agent is told.")
    image: str = Field("python", description="An image recipe under sandboxes/.")
    workspace: str = Field("workspace", description="Folder copied to /workspace for the agent.")
    tests: str = Field("tests", description="Hidden tests, copied to /grader/tests by the grader only.")
    check: str = Field(min_length=1, description="Command the grader runs in /workspace; exit 0 = solved.")
    solution: str | None = Field("solution.patch", description="Reference `git diff` of the workspace.")
    limits: Limits = Field(default_factory=Limits, description="Step and time ceilings.")
    tags: list[str] = Field(default_factory=list, description="Free-form labels (difficulty, kind).")
    network: bool = Field(False, description="Whether the agent's sandbox may reach the network.")


class Task(BaseModel):
    """A loaded task: its id, its folder, and its validated fields."""

    kind: ClassVar[str] = "folder"
    workdir: ClassVar[str] = "/workspace"

    id: str
    root: Path
    spec: TaskFile

    @property
    def prompt(self) -> str:
        return self.spec.prompt

    @property
    def limits(self) -> Limits:
        return self.spec.limits

    @property
    def network(self) -> bool:
        return self.spec.network

    @property
    def workspace_dir(self) -> Path:
        return self.root / self.spec.workspace

    @property
    def tests_dir(self) -> Path:
        return self.root / self.spec.tests

    @property
    def content_hash(self) -> str:
        return folder_hash(self.root)

    @property
    def solution_patch(self) -> str | None:
        """The reference solution's text, or None when the task ships none."""
        if self.spec.solution is None:
            return None
        return (self.root / self.spec.solution).read_text()


def folder_hash(root: Path) -> str:
    """A hash of every file of a task folder, names included."""
    digest = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        digest.update(path.relative_to(root).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
