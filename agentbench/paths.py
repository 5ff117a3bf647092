"""Where agentbench finds its recipes and task suites and writes its results."""

from __future__ import annotations

import os
from pathlib import Path


def project_root() -> Path:
    """The checkout that holds sandboxes/ and tasks/ (the package lives inside it)."""
    return Path(__file__).resolve().parent.parent


def sandboxes_dir() -> Path:
    """Image recipes: one folder per image name."""
    return Path(os.environ.get("AGENTBENCH_SANDBOXES", project_root() / "sandboxes"))


def recipe_names() -> list[str]:
    """Image names that have a recipe under sandboxes/ (plus `base`)."""
    recipes = sorted(p.parent.name for p in sandboxes_dir().glob("*/Dockerfile"))
    return ["base", *recipes]


def tasks_dir() -> Path:
    """Built-in task suites: one folder per suite."""
    return Path(os.environ.get("AGENTBENCH_TASKS", project_root() / "tasks"))


def results_dir(create: bool = True) -> Path:
    """Run outputs (database, logs, reports); made on first use unless `create` is False."""
    path = Path(os.environ.get("AGENTBENCH_RESULTS", "results"))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
