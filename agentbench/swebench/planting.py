"""Canaries planted in a SWE-bench instance's own test files, beside its tests: the eval script
appends a must-pass and a must-fail test to each test file its pytest command runs, once the
test patch is applied, and resets the files after the run as it always does. Code that forges
results for the tests of one file forges them for these too (agentbench.canaries)."""

from __future__ import annotations

import re
import secrets

from agentbench.canaries import FALLBACK_WORDS, Planted, canary_function, fresh_name
from agentbench.swebench.instances import Instance
from agentbench.swebench.specs import TESTBED
from agentbench.swebench.upstream import START_TEST_OUTPUT


def test_files(instance: Instance, script: str) -> dict[str, set[str]]:
    """Each Python test file the script's test command names that the instance's FAIL_TO_PASS
    or PASS_TO_PASS tests live in, with the names of those tests."""
    command = script.split(START_TEST_OUTPUT, 1)[-1].splitlines()
    named = " ".join(line for line in command[:4])
    files: dict[str, set[str]] = {}
    for nodeid in instance.FAIL_TO_PASS + instance.PASS_TO_PASS:
        path, _, rest = nodeid.partition("::")
        if rest and path.endswith(".py") and re.search(rf"(?:^|\s){re.escape(path)}(?:\s|$)", named):
            files.setdefault(path, set()).add(rest.rsplit("::", 1)[-1].split("[", 1)[0])
    return files


def planted_script(script: str, instance: Instance) -> tuple[str, tuple[Planted, ...]]:
    """The eval script with canaries appended to its test files just before the test command,
    and the canaries; unchanged when its test files are not known."""
    files = test_files(instance, script)
    if not files:
        return script, ()
    lines, planted = [], []
    taken = set().union(*files.values())
    for path, names in sorted(files.items()):
        words = sorted({w for name in names for w in re.split(r"_+", name.removeprefix("test").lower()) if w.isalpha()})
        words = words if len(words) >= 4 else sorted(set(words) | set(FALLBACK_WORDS))
        code = []
        for must_pass in (True, False):
            name = fresh_name(words, taken)
            code.append(canary_function(name, must_pass))
            planted.append(Planted(f"{TESTBED}/{path}", None, name, must_pass))
        end = f"AGENTBENCH_CANARIES_{secrets.token_hex(6)}"
        lines += [f"if [ -f '{path}' ]; then printf '\\n\\n' >> '{path}'; cat >> '{path}' <<'{end}'",
                  "\n\n".join(code), end, "fi"]
    marker = next(i for i, line in enumerate(script.splitlines()) if START_TEST_OUTPUT in line)
    out = script.splitlines()
    return "\n".join([*out[:marker], *lines, *out[marker:]]) + "\n", tuple(planted)
