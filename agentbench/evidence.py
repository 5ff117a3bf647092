"""Evidence behind a verdict that the agent's code cannot rewrite.

The grader arms a check with a pytest plugin (agentbench/pytest_evidence.py) that records each
test's outcome in a file the check's output never passes through, and with two canary tests
named by a fresh random nonce: one must pass, one must fail (shown as skipped once it has). The
judgement then rests on the records, the canaries and the hidden tests the task holds, not on
the exit code alone. Everything here but `Canary.files` is a pure function of its inputs.
"""

from __future__ import annotations

import ast
import json
import re
import secrets
import shlex
import threading
from dataclasses import dataclass, field
from pathlib import Path

ROOT = "/var/lib/agentbench"  # where the plugin writes its records (the one place it must write)
SEALED = "/grader"  # the grader's files, mounted read-only: hidden tests, check scripts, the plugin
PLUGIN_DIR = f"{SEALED}/agentbench/plugin"
CANNOT_START = (126, 127)  # the shell could not run the command (not executable, not found)
STARTUP_FILES = re.compile(r"(?:^|/)(?:sitecustomize\.py|usercustomize\.py|[^/]+\.pth)$")  # run by Python before any test
_PARSING = threading.Lock()  # CPython 3.11's ast.parse is not safe in concurrent threads


@dataclass(frozen=True)
class Canary:
    """One grading's canaries and the paths of its evidence, all named by a fresh nonce: two in
    a file of their own, run first, and those planted beside the hidden tests (`planted`)."""

    nonce: str
    planted: tuple = ()  # agentbench.canaries.Planted

    @classmethod
    def new(cls, planted: tuple = ()) -> Canary:
        return cls(secrets.token_hex(8), planted)

    @property
    def passing(self) -> str:
        return f"test_{self.nonce}_0"

    @property
    def failing(self) -> str:
        return f"test_{self.nonce}_1"

    @property
    def plugin_module(self) -> str:
        """The plugin's module name: a workspace module cannot shadow a name it cannot know."""
        return f"agentbench_evidence_{self.nonce}"

    @property
    def test_file(self) -> str:
        return f"{SEALED}/agentbench/{self.nonce}/test_{self.nonce}.py"

    @property
    def results_file(self) -> str:
        return f"{ROOT}/{self.nonce}.jsonl"

    def files(self) -> dict[str, str]:
        """The plugin and the canaries' own file, by their paths in the container (under SEALED)."""
        plugin = (Path(__file__).parent / "pytest_evidence.py").read_text()
        a, b = secrets.randbelow(1000) + 2, secrets.randbelow(1000) + 2
        canaries = (f"def {self.passing}():\n    assert {a} * {b} == {a * b}\n\n\n"
                    f"def {self.failing}():\n    assert {a} * {b} == {a * b + 1}\n")
        return {f"{PLUGIN_DIR}/{self.plugin_module}.py": plugin, self.test_file: canaries}

    def environment(self) -> str:
        """Shell lines that make every pytest the check starts load the plugin."""
        must_fail = [self.failing] + [canary.name for canary in self.planted if not canary.must_pass]
        exports = {
            "AGENTBENCH_EVIDENCE": self.results_file,
            "AGENTBENCH_CANARY": self.test_file,
            "AGENTBENCH_MUST_FAIL": ",".join(must_fail),
        }
        lines = [f"export {name}={shlex.quote(value)}" for name, value in exports.items()]
        lines += [f'export PYTHONPATH={PLUGIN_DIR}"${{PYTHONPATH:+:$PYTHONPATH}}"',
                  f'export PYTEST_ADDOPTS="-p {self.plugin_module} ${{PYTEST_ADDOPTS:-}}"']
        return "\n".join(lines) + "\n"


@dataclass(frozen=True)
class Evidence:
    """What the plugin recorded: whether it loaded, each test's outcome, how pytest finished, and
    what in the test process could change a result without touching a test."""

    loaded: bool = False
    outcomes: dict[str, str] = field(default_factory=dict)  # nodeid -> passed|failed|skipped|xfailed|xpassed|incomplete
    paths: dict[str, str] = field(default_factory=dict)  # nodeid -> the test file's absolute path
    raw: dict[str, str] = field(default_factory=dict)  # nodeid -> a failing canary's outcome before it was shown as skipped
    hooks: dict[str, list[str]] = field(default_factory=dict)  # loaded file -> the result-deciding pytest hooks it implements
    exitstatus: int | None = None  # what pytest itself decided; None when its session never finished
    deselected: frozenset[str] = frozenset()  # nodeids pytest deselected (-k, -m, a plugin)
    late_hooks: tuple[dict, ...] = ()  # result-deciding hooks registered after the session started (not by a conftest.py)
    replaced: tuple[str, ...] = ()  # pytest's or pluggy's own functions replaced since the session started
    foreign_modules: tuple[str, ...] = ()  # test modules pytest holds that were not loaded from their files
    changed_items: tuple[str, ...] = ()  # tests whose item or function changed between collection and their run

    def outcome_of(self, name: str, raw: bool = False) -> str | None:
        """The outcome of the test whose nodeid ends with `::name` (as pytest first reported it,
        with `raw`), if it ran."""
        found = [outcome for nodeid, outcome in (self.raw if raw else self.outcomes).items() if nodeid.endswith(f"::{name}")]
        return found[0] if found else None

    def was_deselected(self, name: str) -> bool:
        return any(nodeid.endswith(f"::{name}") for nodeid in self.deselected)


def read_evidence(text: str | None) -> Evidence:
    """The plugin's records (JSON lines) as Evidence; unreadable lines are ignored."""
    loaded, exitstatus = False, None
    phases: dict[str, dict[str, str]] = {}
    paths: dict[str, str] = {}
    raw: dict[str, str] = {}
    hooks: dict[str, list[str]] = {}
    deselected, late, replaced, foreign, changed = set(), [], [], [], []
    for line in (text or "").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if not isinstance(record, dict):
            continue
        event = record.get("event")
        if event == "loaded":
            loaded = True
        elif event == "finished" and exitstatus is None:
            exitstatus = record.get("exitstatus")
        elif event == "test":
            nodeid = str(record.get("nodeid"))
            phases.setdefault(nodeid, {})[str(record.get("when"))] = str(record.get("outcome"))
            paths[nodeid] = str(record.get("path") or "")
        elif event == "canary":
            raw[str(record.get("nodeid"))] = str(record.get("outcome"))
        elif event == "hooks":
            names = hooks.setdefault(str(record.get("file")), [])
            names += [str(name) for name in record.get("hooks") or [] if str(name) not in names]
        elif event == "deselected":
            deselected.add(str(record.get("nodeid")))
        elif event == "late-hook" and record not in late:
            late.append(record)
        elif event == "replaced" and str(record.get("name")) not in replaced:
            replaced.append(str(record.get("name")))
        elif event == "foreign-module":
            foreign.append(str(record.get("file")))
        elif event == "item-changed":
            changed.append(str(record.get("nodeid")))
    return Evidence(loaded, {nodeid: final_outcome(p) for nodeid, p in phases.items()}, paths, raw, hooks, exitstatus,
                    frozenset(deselected), tuple(late), tuple(replaced), tuple(foreign), tuple(changed))


def final_outcome(phases: dict[str, str]) -> str:
    """One test's outcome from its setup, call and teardown reports."""
    if "failed" in phases.values():
        return "failed"
    if "call" in phases:
        return phases["call"]
    if phases.get("setup") in ("skipped", "xfailed"):
        return phases["setup"]
    return "incomplete"


def passed(evidence: Evidence, tests_root: str, expected: str) -> bool:
    """Whether the hidden test `file.py::name` (any of its parameters) ran from `tests_root` and passed."""
    file, name = expected.split("::", 1)
    path = f"{tests_root.rstrip('/')}/{file}"
    runs = [outcome for nodeid, outcome in evidence.outcomes.items()
            if evidence.paths.get(nodeid) == path and test_name(nodeid) == name]
    return bool(runs) and all(outcome == "passed" for outcome in runs)


def test_name(nodeid: str) -> str:
    """A nodeid's test name without its file, parameters or old pytest's `()` instance part."""
    parts = [part for part in nodeid.split("::")[1:] if part != "()"]
    return re.sub(r"\[.*\]$", "", "::".join(parts))


def is_test_file(path: Path) -> bool:
    """Whether pytest collects tests from `path` by its default name patterns."""
    return path.name.startswith("test_") or path.name.endswith("_test.py")


def parse_python(path: Path) -> ast.Module | None:
    """A Python file's syntax tree, or None where it does not parse."""
    try:
        with _PARSING:
            return ast.parse(path.read_text(errors="replace"))
    except (SyntaxError, ValueError):
        return None


def expected_tests(tests_dir: Path) -> list[str]:
    """The tests a folder of pytest files defines, found without running them: `file.py::name`
    for module-level `test*` functions and `Test*` classes' `test*` methods."""
    found = []
    for path in sorted(tests_dir.rglob("*.py")):
        tree = parse_python(path) if is_test_file(path) else None
        if tree is None:
            continue
        file = path.relative_to(tests_dir).as_posix()
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
                found.append(f"{file}::{node.name}")
            elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
                methods = [item for item in node.body if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef))]
                if any(item.name == "__init__" for item in methods):
                    continue
                found += [f"{file}::{node.name}::{item.name}" for item in methods if item.name.startswith("test")]
    return found
