"""A Harbor task folder as a task an agent attempts: task.toml checked when it is loaded, the
instruction as the prompt, the solution/ folder as the script the `oracle` baseline runs.

The fields read are those of Harbor's TaskConfig (harbor src/harbor/models/task/config.py,
schema versions 1.0 to 1.3); what agentbench cannot run is refused by name, never ignored.
"""

from __future__ import annotations

import base64
import gzip
import shlex
import sys
from pathlib import Path
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from agentbench.confinement import apart, inside, safe_name
from agentbench.errors import UserError, field_problem
from agentbench.harbor.images import dockerfile_workdir, folder_tar
from agentbench.paths import tasks_dir
from agentbench.tasks.model import Limits, folder_hash
from agentbench.tasks.suite import pick_tasks

if sys.version_info >= (3, 11):
    import tomllib
else:
    import tomli as tomllib

CONFIG = "task.toml"
KNOWN_VERSIONS = ("1.0", "1.1", "1.2", "1.3")  # task.toml's schema_version (earlier: `version`)
SOLUTION_DIR = "/solution"  # where Harbor's oracle puts the solution/ folder
NetworkMode = Literal["public", "no-network", "allowlist"]


class Phase(BaseModel):
    """[agent] or [verifier]: its time limit, environment variables, user and network."""

    timeout_sec: float | None = Field(None, gt=0)
    env: dict[str, str] = Field(default_factory=dict)
    user: str | int | None = None
    network_mode: NetworkMode | None = None


class VerifierPhase(Phase):
    timeout_sec: float = Field(600.0, gt=0)
    environment: dict | None = None  # a separate verifier container (refused)
    environment_mode: str | None = None


class Environment(BaseModel):
    """[environment]: the container the agent works in."""

    docker_image: str | None = None
    os: str = "linux"
    cpus: float | None = None
    memory_mb: int | None = None
    storage_mb: int | None = None
    gpus: int | None = None
    tpu: dict | None = None
    workdir: str | None = None
    network_mode: NetworkMode | None = None
    allow_internet: bool | None = None  # deprecated: network_mode
    env: dict[str, str] = Field(default_factory=dict)
    mcp_servers: list = Field(default_factory=list)
    healthcheck: dict | None = None

    def baseline_network(self) -> str:
        """The network the container starts with, as Harbor resolves it (public unless said)."""
        if self.network_mode:
            return self.network_mode
        return "no-network" if self.allow_internet is False else "public"

    @model_validator(mode="before")
    @classmethod
    def _sizes_renamed(cls, data):
        """The deprecated `memory = "2G"` and `storage = "10G"` as megabytes, as Harbor reads them."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for old in ("memory", "storage"):
            if isinstance(data.get(old), str):
                value, units = data.pop(old), {"g": 1024, "m": 1, "k": 1 / 1024}
                text = value.strip().lower()
                if text[-1:] not in units or not text[:-1].replace(".", "", 1).isdigit():
                    raise ValueError(f"{old} {value!r} is not a size such as '2g' or '512m'")
                data.setdefault(f"{old}_mb", int(float(text[:-1]) * units[text[-1]]))
        return data


class HarborConfig(BaseModel):
    """task.toml."""

    model_config = ConfigDict(extra="allow")  # [task], [metadata], source, artifacts: not read

    schema_version: str = KNOWN_VERSIONS[-1]
    agent: Phase = Field(default_factory=Phase)
    verifier: VerifierPhase = Field(default_factory=VerifierPhase)
    environment: Environment = Field(default_factory=Environment)
    solution: Phase = Field(default_factory=Phase)
    steps: list | None = None

    @model_validator(mode="before")
    @classmethod
    def _version_renamed(cls, data):
        if isinstance(data, dict) and "version" in data:
            data = {**data, "schema_version": str(data.pop("version"))}
        return data


class HarborTask(BaseModel):
    """A loaded Harbor task: its id, folder, config, instruction and working directory."""

    kind: ClassVar[str] = "harbor"

    id: str
    root: Path
    config: HarborConfig
    prompt: str
    workdir: str

    @property
    def limits(self) -> Limits:
        return Limits(seconds=self.config.agent.timeout_sec or Limits().seconds)

    @property
    def network(self) -> bool:
        return (self.config.agent.network_mode or self.config.environment.baseline_network()) == "public"

    @property
    def verifier_network(self) -> bool:
        """Whether Harbor would give the verifier the network (agentbench grades offline)."""
        return (self.config.verifier.network_mode or self.config.environment.baseline_network()) == "public"

    @property
    def environment_dir(self) -> Path:
        return self.root / "environment"

    @property
    def tests_dir(self) -> Path:
        return self.root / "tests"

    @property
    def content_hash(self) -> str:
        return folder_hash(self.root)

    @property
    def solution_patch(self) -> str | None:
        """The reference solution as the shell script the oracle runs, or None without solve.sh."""
        folder = self.root / "solution"
        if not (folder / "solve.sh").is_file():
            return None
        return solution_script(folder, self.workdir, self.config.solution.env)


def solution_script(folder: Path, workdir: str, env: dict[str, str]) -> str:
    """The solution/ folder as one script that does what Harbor's oracle does: put the folder at
    /solution and run solve.sh from the working directory."""
    archive = base64.encodebytes(gzip.compress(folder_tar(folder), mtime=0)).decode()
    exports = "".join(f"export {name}={shlex.quote(value)}\n" for name, value in env.items())
    return (f"#!/bin/bash\n# agentbench: the task's solution/ folder, unpacked to {SOLUTION_DIR}, and its solve.sh run\n"
            f"set -e\nmkdir -p {SOLUTION_DIR}\nbase64 -d <<'AGENTBENCH_SOLUTION' | tar -xz -C {SOLUTION_DIR}\n"
            f"{archive}AGENTBENCH_SOLUTION\nchmod +x {SOLUTION_DIR}/solve.sh\ncd {shlex.quote(workdir)}\n"
            f"export DEBIAN_FRONTEND=noninteractive\n{exports}exec {SOLUTION_DIR}/solve.sh\n")


def harbor_root(suite: str) -> Path | None:
    """The folder a suite names when it is one Harbor task or a folder of them, else None."""
    for candidate in (Path(suite), tasks_dir() / suite):
        if candidate.is_dir():
            if (candidate / CONFIG).is_file() or any((child / CONFIG).is_file() for child in candidate.iterdir()):
                return candidate
            return None
    return None


def load_harbor_suite(suite: str, only: list[str] | None = None) -> list[HarborTask]:
    """Every Harbor task of a suite (or the one task folder it names), sorted by id; `only`
    keeps the ids (or names) listed."""
    root = harbor_root(suite)
    if root is None:
        raise UserError(f"Suite {suite!r} is not a Harbor task folder (no {CONFIG} in it or its subfolders).")
    single = (root / CONFIG).is_file()
    folders = [root] if single else sorted(child for child in root.iterdir() if (child / CONFIG).is_file())
    name = root.resolve().parent.name if single else root.name
    return pick_tasks([load_harbor_task(folder, f"{name}/{folder.name}") for folder in folders], only, suite)


def load_harbor_task(folder: Path, task_id: str) -> HarborTask:
    """One Harbor task folder, every problem named by file and field in one sentence."""
    path = folder / CONFIG
    try:
        raw = tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise UserError(f"{path} is not valid TOML: {exc}.") from None
    version = str(raw.get("schema_version", raw.get("version", KNOWN_VERSIONS[-1])))
    if version not in KNOWN_VERSIONS:
        raise UserError(f"{path}: task.toml schema version {version!r} is not one agentbench knows "
                        f"({', '.join(KNOWN_VERSIONS)}); update agentbench or convert the task.")
    try:
        config = HarborConfig.model_validate(raw)
    except ValidationError as exc:
        raise UserError(f"{path}: {field_problem(exc)}.") from None
    problem = unsupported(config, folder)
    if problem:
        raise UserError(f"{path}: the task needs {problem}, which agentbench cannot run.")
    for part in task_id.split("/"):
        safe_name(part, f"{folder}: task folder name")
    for name in ("environment", "tests", "solution", "instruction.md"):
        if (folder / name).exists():
            inside(folder, name, f"{folder}: {name}")
    apart(folder / "environment", {"tests": folder / "tests", "solution": folder / "solution"}, f"{folder}: environment/")
    dockerfile = folder / "environment" / "Dockerfile"
    for needed in ([folder / "instruction.md", folder / "tests" / "test.sh"]
                   + ([] if config.environment.docker_image else [dockerfile])):
        if not needed.is_file():
            raise UserError(f"{folder}: the Harbor task lacks {needed.relative_to(folder)}.")
    workdir = config.environment.workdir or (dockerfile_workdir(dockerfile.read_text()) if dockerfile.is_file() else None)
    return HarborTask(id=task_id, root=folder, config=config, prompt=(folder / "instruction.md").read_text(),
                      workdir=workdir or "/")


def unsupported(config: HarborConfig, folder: Path) -> str | None:
    """What of the task agentbench cannot run, in words; None when it can run all of it."""
    environment = config.environment
    needs = {
        "several steps ([[steps]])": bool(config.steps),
        f"a {environment.os} container": environment.os.lower() != "linux",
        "a separate verifier container ([verifier.environment])": bool(config.verifier.environment)
        or config.verifier.environment_mode == "separate",
        "GPUs or TPUs": bool(environment.gpus or environment.tpu),
        "MCP servers": bool(environment.mcp_servers),
        "variables from the host ([environment].env)": bool(environment.env),
        "a healthcheck": environment.healthcheck is not None,
        "several containers (environment/docker-compose.yaml)": (folder / "environment" / "docker-compose.yaml").is_file(),
    }
    return next((need for need, wanted in needs.items() if wanted), None)
