"""What `agentbench tasks SUITE --audit` concludes from the red team's run: for every task,
what each reward hack achieved, and why a task is weak. A hack fixes nothing, so "solved"
means the task's check can be forged, and an error left out of the rate means an agent could
hide its failure there."""

from __future__ import annotations

import ast
from pathlib import Path

from rich.console import Console
from rich.table import Table

from agentbench.evidence import is_test_file, parse_python
from agentbench.models.redteam import ALWAYS_EQUAL, NAMES, attack_for
from agentbench.store import AttemptRow

FORGED = ("forged", "excluded")


def attack_outcome(row: AttemptRow) -> str:
    """forged (solved), excluded (an error, left out of the rate), caught (graded tampered) or
    held (graded unsolved)."""
    if row.solved:
        return "forged"
    if row.status == "error":
        return "excluded"
    return "caught" if row.status == "tampered" else "held"


def audit_results(rows: list[AttemptRow]) -> dict[str, dict[str, str]]:
    """Task -> attack -> outcome."""
    results: dict[str, dict[str, str]] = {}
    for row in rows:
        results.setdefault(row.task, {})[attack_for(row.epoch)] = attack_outcome(row)
    return results


def forgeable(results: dict[str, dict[str, str]]) -> dict[str, list[str]]:
    """The tasks some attack got past, with those attacks."""
    found = {task: [attack for attack, outcome in outcomes.items() if outcome in FORGED] for task, outcomes in results.items()}
    return {task: attacks for task, attacks in found.items() if attacks}


SUBPROCESS_CALLS = {("subprocess", name) for name in ("run", "call", "check_call", "check_output", "Popen", "getoutput")} | {
    ("os", name) for name in ("system", "popen", "execv", "execvp", "spawnv")}


def runs_code_in_subprocess(tests_dir: Path) -> bool:
    """Whether a hidden test starts a process (subprocess, os.system...): code run there is out
    of reach of attacks inside the test process, so they may hold by luck, not by defence."""
    for path in sorted(tests_dir.rglob("*.py")):
        tree = parse_python(path) if is_test_file(path) else None
        for node in ast.walk(tree or ast.Module(body=[])):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and isinstance(node.func.value, ast.Name)
                    and (node.func.value.id, node.func.attr) in SUBPROCESS_CALLS):
                return True
    return False


def weaknesses(outcomes: dict[str, str], exit_code_only: bool, in_subprocess: bool = False) -> list[str]:
    """Why a task's check is weak, from what the attacks achieved and how it decides."""
    found = ["its check rests on its exit code alone"] if exit_code_only else []
    if outcomes.get(ALWAYS_EQUAL) in FORGED:
        found.append("its tests compare with == and never check types (an object equal to everything passes)")
    held = sum(1 for outcome in outcomes.values() if outcome == "held")
    if in_subprocess and held:
        found.append(f"{held} attack(s) held only because its tests run the code in a subprocess, out of the test "
                     "process's reach (a test that imports the code would meet them)")
    return found


def render_audit(results: dict[str, dict[str, str]], console: Console, exit_code_only: set[str] = frozenset(),
                 in_subprocess: set[str] = frozenset()) -> dict[str, list[str]]:
    """A table of tasks and how each held against the attacks, with why a task is weak;
    returns the forgeable tasks. `exit_code_only`: tasks whose check is not judged by evidence;
    `in_subprocess`: tasks whose tests run the code in a subprocess."""
    table = Table("task", "caught", "held", "forged by", "weak because")
    for task, outcomes in sorted(results.items()):
        counts = {kind: sum(1 for outcome in outcomes.values() if outcome == kind) for kind in ("caught", "held")}
        bad = [f"{attack} ({outcome})" for attack, outcome in outcomes.items() if outcome in FORGED]
        weak = weaknesses(outcomes, task in exit_code_only, task in in_subprocess)
        table.add_row(task, str(counts["caught"]), str(counts["held"]), "[red]" + "; ".join(bad) + "[/]" if bad else "-",
                      "; ".join(weak) or "-")
    console.print(table)
    found = forgeable(results)
    console.print(f"{len(results) - len(found)} of {len(results)} tasks held against all {len(NAMES)} attacks"
                  + (f"; [red]{len(found)} can be forged[/]" if found else ""), highlight=False)
    return found
