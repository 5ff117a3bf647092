"""What swebench specifies for an instance's repo and version, made offline: the Python and
the Debian release that ships it, the requirements at environment_setup_commit, the eval script.

The tables and script builders are swebench's own (4.1.0 ships them); only the conda lines of
its scripts become a venv, since the offline images take Python from Debian.
"""

from __future__ import annotations

from dataclasses import dataclass

from agentbench.errors import UserError
from agentbench.swebench.instances import Instance
from agentbench.swebench.repos import RepoSource
from agentbench.swebench.upstream import (
    END_TEST_OUTPUT,
    MAP_REPO_TO_REQS_PATHS,
    MAP_REPO_VERSION_TO_SPECS,
    clean_requirements,
    make_eval_script_list_py,
)

TESTBED = "/testbed"
VENV = "/opt/testbed"
DEBIAN_PYTHONS = {"3.9": "bullseye", "3.11": "bookworm", "3.13": "trixie"}  # the python3 each release ships
EXIT_CODE_LINE = ">>>>> Test Exit Code:"  # as swebench 5.x records it


@dataclass(frozen=True)
class PythonChoice:
    """The Python an environment gets offline, and how it differs from the spec's."""

    wanted: str
    python: str
    release: str

    @property
    def deviation(self) -> str | None:
        if self.python == self.wanted:
            return None
        return f"swebench specifies Python {self.wanted}; no Debian release ships it, so Python {self.python} ({self.release}) is used"


def spec_for(instance: Instance) -> dict:
    """swebench's spec for the instance's repo and version, or one sentence saying there is none."""
    versions = MAP_REPO_VERSION_TO_SPECS.get(instance.repo)
    if versions is None:
        raise UserError(f"Instance {instance.instance_id}: swebench has no specs for repository {instance.repo}.")
    if instance.version not in versions:
        raise UserError(f"Instance {instance.instance_id}: swebench has no spec for {instance.repo} version {instance.version} "
                        f"(it knows {', '.join(sorted(versions))}).")
    if "python" not in versions[instance.version]:
        raise UserError(f"Instance {instance.instance_id}: {instance.repo} is not a Python repository (swebench's spec names "
                        "no Python); agentbench runs Python instances only.")
    return versions[instance.version]


def python_for(wanted: str) -> PythonChoice:
    """The Debian release shipping the wanted Python, else the nearest one that ships any."""
    if wanted in DEBIAN_PYTHONS:
        return PythonChoice(wanted, wanted, DEBIAN_PYTHONS[wanted])

    def distance(version: str) -> tuple[int, int]:
        minor, goal = int(version.split(".")[1]), int(wanted.split(".")[1])
        return abs(minor - goal), -minor

    nearest = min(DEBIAN_PYTHONS, key=distance)
    return PythonChoice(wanted, nearest, DEBIAN_PYTHONS[nearest])


def environment_python_text(instance: Instance, pulled: bool) -> str:
    """The Python an instance's environment has, in a table cell: swebench's own where its image
    was pulled, else the Debian release's, with the spec's where they differ."""
    if pulled:
        return f"{spec_for(instance)['python']} (swebench's image)"
    choice = python_for(spec_for(instance)["python"])
    return f"{choice.python} ({choice.release})" + ("" if choice.deviation is None else f", spec {choice.wanted}")


def requirements(instance: Instance, source: RepoSource) -> str:
    """swebench's requirements.txt for the instance, read at environment_setup_commit from the
    repository source instead of GitHub: `-r` includes inlined, editable and comment lines
    dropped, then swebench's own replacements."""
    commit = instance.environment_setup_commit

    def kept(line: str) -> bool:
        return not any(line.strip().startswith(prefix) for prefix in ("-e .", "#", ".[test"))

    for path in MAP_REPO_TO_REQS_PATHS.get(instance.repo, []):
        text = source.read(instance.repo, commit, path)
        if text is not None:
            break
    else:
        raise UserError(f"Instance {instance.instance_id}: no requirements file of {instance.repo} at {commit}.")
    folder = path.rsplit("/", 1)[0] if "/" in path else ""
    original, included = [], []
    for line in text.split("\n"):
        if line.strip().startswith("-r"):
            name = line[len("-r"):].strip()
            extra = source.read(instance.repo, commit, f"{folder}/{name}" if folder else name)
            included += [item for item in (extra or "").split("\n") if kept(item)]
        elif kept(line):
            original.append(line)
    included.append("\n".join(original))
    return clean_requirements("\n".join(included))


def eval_script(instance: Instance, conda: bool = False) -> str:
    """The eval script in swebench's shape (test files reset to base_commit, test_patch applied,
    the spec's test command between the markers), its exit code recorded. It runs in the venv of
    the images built here, or with `conda` in swebench's prebuilt images, where a record of the
    newer shape brings its own script."""
    if conda and instance.eval_script:
        return instance.eval_script
    spec = spec_for(instance)
    lines = make_eval_script_list_py(instance.model_dump(), spec, "testbed", TESTBED, instance.base_commit, instance.test_patch)
    if not conda:
        lines = [f"source {VENV}/bin/activate" if line == "source /opt/miniconda3/bin/activate" else line
                 for line in lines if not line.startswith("conda activate")]
    end = lines.index(f": '{END_TEST_OUTPUT}'")
    lines[end:end + 1] = ["SWEBENCH_TEST_EXIT_CODE=$?", lines[end], f'echo "{EXIT_CODE_LINE} $SWEBENCH_TEST_EXIT_CODE"']
    return "\n".join(["#!/bin/bash", "set -uxo pipefail", *lines]) + "\n"
