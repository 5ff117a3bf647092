"""Loading suites: a name under tasks/ or a folder of task folders, each with task.yaml."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from agentbench.confinement import apart, inside, safe_name
from agentbench.errors import UserError, field_problem
from agentbench.paths import recipe_names, sandboxes_dir, tasks_dir
from agentbench.tasks.model import Task, TaskFile


def suite_path(suite: str) -> Path:
    """The folder a suite name or path points at, or a sentence naming what exists."""
    for candidate in (Path(suite), tasks_dir() / suite):
        if candidate.is_dir():
            return candidate
    known = ", ".join(sorted(p.name for p in tasks_dir().iterdir() if p.is_dir())) if tasks_dir().is_dir() else "none"
    raise UserError(f"Suite {suite!r} is neither a folder nor a suite under {tasks_dir()} (known: {known}).")


def load_suite(suite: str, only: list[str] | None = None) -> list[Task]:
    """Every task of a suite, sorted by id; `only` keeps the ids (or names) listed."""
    root = suite_path(suite)
    name = root.name
    recipes = recipe_names()
    tasks = [load_task(folder, f"{name}/{folder.name}", recipes) for folder in sorted(root.iterdir())
             if (folder / "task.yaml").is_file()]
    if not tasks:
        raise UserError(f"Suite {suite!r} ({root}) holds no task folders with a task.yaml.")
    return pick_tasks(tasks, only, suite)


def pick_tasks(tasks: list, only: list[str] | None, suite: str) -> list:
    """The tasks whose ids (or names within the suite) `only` lists; all when it lists none."""
    if not only:
        return tasks
    wanted = set(only)
    tasks = [t for t in tasks if t.id in wanted or t.id.split("/", 1)[1] in wanted]
    missing = wanted - {t.id for t in tasks} - {t.id.split("/", 1)[1] for t in tasks}
    if missing:
        raise UserError(f"Suite {suite!r} has no task {', '.join(sorted(missing))}; see `agentbench tasks {suite}`.")
    return tasks


def load_task(folder: Path, task_id: str, recipes: list[str]) -> Task:
    """One task folder, with every problem named by file and field; its image one of `recipes`."""
    path = folder / "task.yaml"
    try:
        raw = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {_yaml_problem(exc)}.") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path} must be a mapping of fields (prompt, check, ...).")
    try:
        spec = TaskFile.model_validate(raw)
    except ValidationError as exc:
        raise UserError(f"{path}: {field_problem(exc)}.") from None
    for part in task_id.split("/"):
        safe_name(part, f"{folder}: task folder name")
    task = Task(id=task_id, root=folder, spec=spec)
    for field, target in (("workspace", spec.workspace), ("tests", spec.tests)):
        if not inside(folder, target, f"{path}: field `{field}`").is_dir():
            raise UserError(f"{path}: field `{field}` names {folder / target}, which is not a folder.")
    if spec.solution is not None and not inside(folder, spec.solution, f"{path}: field `solution`").is_file():
        raise UserError(f"{path}: field `solution` names {folder / spec.solution}, which does not exist.")
    hidden = {"hidden tests": task.tests_dir, "task.yaml": path}
    if spec.solution is not None:
        hidden["reference solution"] = folder / spec.solution
    apart(task.workspace_dir, hidden, f"{path}: field `workspace`")
    if spec.image not in recipes:
        raise UserError(f"{path}: field `image` names {spec.image!r}, which is not a recipe under {sandboxes_dir()} "
                        f"(known: {', '.join(recipes)}).")
    return task


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """A YAML error on one line: what is wrong and where (PyYAML's own text spans several)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or " ".join(str(exc).split())
    return problem + (f" at line {mark.line + 1}, column {mark.column + 1}" if mark else "")
