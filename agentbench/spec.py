"""What a run is asked to do: the matrix of models x agents x tasks x epochs, and budgets."""

from __future__ import annotations

import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agentbench.confinement import checked_name
from agentbench.contracts import Budget
from agentbench.errors import UserError, field_problem

LABEL_KEY = re.compile(r"[A-Za-z0-9._-]+")

class RunSpec(BaseModel):
    """One run's matrix and settings, stored with the run."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(default_factory=lambda: datetime.now(timezone.utc).strftime("run-%Y%m%d-%H%M%S"))
    models: list[str] = Field(min_length=1, description="Model profile names.")
    agents: list[str] = Field(default_factory=lambda: ["fast"], description="Agent scaffold names.")
    suites: list[str] = Field(default_factory=lambda: ["multistep"], description="Suite names or folders.")
    tasks: list[str] = Field(default_factory=list, description="Only these task ids (empty: all).")
    limit: int | None = Field(None, gt=0, description="Only the first N tasks of the suites, in order.")
    epochs: int = Field(1, gt=0, description="Attempts per (task, model, agent).")
    workers: int = Field(2, gt=0, description="Attempts running at once.")
    infra_retries: int = Field(1, ge=0, description="Times an attempt that ended in a sandbox or grader failure is tried again.")
    base_url: str | None = Field(None, description="Use this running server for every non-builtin model.")
    budget: Budget = Field(default_factory=Budget, description="Per-attempt ceilings; unset ones come from each task.")
    max_cost: float | None = Field(None, gt=0, description="USD the whole run may spend; no attempt starts that would pass it.")
    network: bool = Field(False, description="Let every agent's sandbox reach the network (grading stays offline).")
    repos: str | None = Field(None, description="SWE-bench: folder of repository mirrors or bundles (owner__name); default GitHub.")
    images: Literal["auto", "pull", "build"] = Field("auto", description="SWE-bench: pull swebench's images, build them, or pull where a registry answers.")
    hints: bool = Field(False, description="SWE-bench: show the agent the instance's hints_text.")
    prune_images: bool = Field(False, description="SWE-bench: remove each instance image once its attempts are graded.")
    image_builds: int = Field(2, gt=0, description="SWE-bench: image builds running at once.")
    executor: Literal["local", "ray"] = Field("local", description="Where attempts run: this machine, or a Ray cluster's Docker nodes.")
    ray_address: str | None = Field(None, description="The Ray cluster (default: RAY_ADDRESS, else a head on this machine).")
    labels: dict[str, str] = Field(default_factory=dict, description="The user's labels for the run, e.g. release: 1.4.0.")
    decide: bool = Field(False, description="Two configurations in a seeded task order; stop once a sequential test decides.")
    decide_alpha: float = Field(0.05, gt=0, lt=1, description="--decide: the chance of a wrong decision, at any stop.")
    decide_margin: float | None = Field(None, gt=0, lt=1, description="--decide: a difference within +-margin counts as equivalent.")

    _safe_run_name = field_validator("name")(lambda cls, name: checked_name(name, "run name"))

    @field_validator("labels")
    @classmethod
    def _label_keys(cls, labels: dict[str, str]) -> dict[str, str]:
        for key, value in labels.items():
            if not LABEL_KEY.fullmatch(key) or not value.strip():
                raise ValueError(f"label {key}={value!r} needs a key of letters, digits, '.', '_' or '-' and a value")
        return labels


def load_spec(path: Path) -> RunSpec:
    """A RunSpec from a YAML file, every problem named by file and field."""
    if not path.is_file():
        raise UserError(f"Run spec {path} does not exist.")
    try:
        raw = yaml.safe_load(path.read_text()) or {}
        return RunSpec.model_validate(raw)
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {exc}") from None
    except ValidationError as exc:
        raise UserError(f"{path}: {field_problem(exc)}.") from None
