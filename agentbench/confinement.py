"""What an input may name: task paths that stay inside their task folder (symlinks resolved),
and ids, run names and label keys of a safe alphabet, so that no task can show an agent another
task's files and no name can escape the file names, image tags and URLs it is used in."""

from __future__ import annotations

import re
from pathlib import Path

from agentbench.errors import UserError

SAFE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._+-]{0,127}")
SAFE_NAME_WORDS = "letters, digits, '.', '_', '+' or '-', starting with a letter or digit, at most 128 characters"


def is_safe_name(value: str) -> bool:
    """Whether `value` is a name that means the same in a path, an image tag and a URL."""
    return bool(SAFE_NAME.fullmatch(value)) and ".." not in value


def checked_name(value: str, what: str) -> str:
    """`value`, or a ValueError naming `what` and the alphabet (for pydantic validators)."""
    if not is_safe_name(value):
        raise ValueError(f"{what} {value!r} must use {SAFE_NAME_WORDS} (and no '..')")
    return value


def safe_name(value: str, what: str) -> str:
    """`value`, or a sentence saying why it cannot name `what`."""
    if not is_safe_name(value):
        raise UserError(f"{what} {value!r} is not a safe name: use {SAFE_NAME_WORDS} (and no '..').")
    return value


def inside(folder: Path, relative: str, where: str) -> Path:
    """`folder / relative`, refused in a sentence when it resolves (through symlinks too)
    outside `folder`; `where` names the field, e.g. `task.yaml: field workspace`."""
    target = (folder / relative).resolve()
    if Path(relative).is_absolute() or not target.is_relative_to(folder.resolve()):
        raise UserError(f"{where} names {relative!r}, which is outside its task folder {folder}; "
                        "a task may only use files inside its own folder.")
    return target


def apart(given: Path, hidden: dict[str, Path], where: str) -> None:
    """Refuse a folder the agent sees (`given`) that holds or is what the grader keeps hidden."""
    given = given.resolve()
    for name, path in hidden.items():
        path = path.resolve()
        if path == given or path.is_relative_to(given):
            raise UserError(f"{where} would show the agent the task's {name} ({path}); "
                            f"keep {name} outside the folder the agent gets.")
