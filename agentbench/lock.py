"""A run's lock record: what decided its results besides chance, so that two runs can be told
apart. `compare` reads two of them and names what differs besides the factor under test."""

from __future__ import annotations

import hashlib
import inspect
import json
import subprocess
from pathlib import Path

from agentbench import __version__
from agentbench.models.profiles import ModelProfile
from agentbench.paths import project_root
from agentbench.spec import RunSpec

GROUPS = ("harness", "models", "images", "suite", "settings")  # the factors a comparison may be about


def sha256(text: str | bytes) -> str:
    return hashlib.sha256(text.encode() if isinstance(text, str) else text).hexdigest()[:16]


def scaffold_hash(name: str) -> str:
    """A hash of the scaffold's source and of the shared loop and tools it runs on."""
    from agentbench import contracts  # the scaffolds load langchain: only when hashed
    from agentbench.agents import AGENTS, budget, loop, tools

    modules = [inspect.getmodule(AGENTS[name]), contracts, budget, loop, tools]
    return sha256("".join(inspect.getsource(module) for module in modules))


def suite_hash(task_hashes: dict[str, str]) -> str:
    """One hash over the tasks' ids and content hashes, in id order."""
    return sha256(json.dumps(sorted(task_hashes.items())))


def git_state(root: Path | None = None) -> dict:
    """The checkout's revision and whether tracked files differ from it (None outside git)."""
    root = root or project_root()

    def git(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True)

    try:
        head = git("rev-parse", "HEAD")
    except OSError:
        return {"revision": None, "dirty": None}
    if head.returncode != 0:
        return {"revision": None, "dirty": None}
    return {"revision": head.stdout.strip(), "dirty": git("diff", "--quiet", "HEAD").returncode != 0}


def public_profile(profile: ModelProfile) -> dict:
    """The resolved profile as recorded: the key variable's name, never a key."""
    return profile.model_dump(mode="json", exclude={"name", "description"})


def build_lock(spec: RunSpec, profiles: list[ModelProfile], task_hashes: dict[str, str], servers: dict[str, dict],
               images: dict[str, str]) -> dict:
    """The lock record of a run from what the runner resolved: the harness, each model's profile
    and what its server reports, the images, the suite and the run's settings."""
    return {
        "harness": {"agentbench": __version__, **git_state(), "scaffolds": {name: scaffold_hash(name) for name in spec.agents}},
        "models": {profile.name: {"profile": public_profile(profile), "server": servers.get(profile.name)} for profile in profiles},
        "images": images,
        "suite": {"hash": suite_hash(task_hashes), "tasks": len(task_hashes)},
        "settings": spec.model_dump(mode="json", include={"epochs", "budget", "infra_retries", "network", "hints", "images"}),
    }


def differences(old, new, path: str = "") -> list[str]:
    """Dotted paths where two JSON values differ (a key on one side only counts)."""
    if isinstance(old, dict) and isinstance(new, dict):
        return [found for key in sorted(set(old) | set(new), key=str)
                for found in differences(old.get(key), new.get(key), f"{path}.{key}" if path else str(key))]
    return [] if old == new else [path]


def compared_part(lock: dict, models: dict[str, str], agents: dict[str, str]) -> dict:
    """The lock as far as the compared configurations go: their models and scaffolds only, each
    under the name of its pair (`models` and `agents` map a name to it)."""
    part = {group: lock.get(group) for group in GROUPS}
    part["models"] = {models[name]: value for name, value in (lock.get("models") or {}).items() if name in models}
    harness = dict(lock.get("harness") or {})
    harness["scaffolds"] = {agents[name]: value for name, value in harness.get("scaffolds", {}).items() if name in agents}
    part["harness"] = harness
    return part


def _slots(names: list[tuple[str, str]]) -> tuple[dict[str, str], dict[str, str]]:
    """Each side's names mapped to their pair's slot: the name, or both names where they differ."""
    old_side: dict[str, str] = {}
    new_side: dict[str, str] = {}
    for old, new in names:
        old_side[old] = new_side[new] = old if old == new else f"{old}|{new}"
    return old_side, new_side


def changed_groups(baseline: dict, candidate: dict, pairs: list[tuple[str, str]]) -> dict[str, list[str]]:
    """Where two lock records differ, by group, within the compared (model, agent) pairs, given
    as ("model/agent" of the baseline, "model/agent" of the candidate)."""
    split = [(old.rsplit("/", 1), new.rsplit("/", 1)) for old, new in pairs]
    models = _slots([(old[0], new[0]) for old, new in split])
    agents = _slots([(old[1], new[1]) for old, new in split])
    by_group: dict[str, list[str]] = {}
    for path in differences(compared_part(baseline, models[0], agents[0]), compared_part(candidate, models[1], agents[1])):
        by_group.setdefault(path.split(".")[0], []).append(path)
    return by_group


def comparison_warnings(baseline: dict | None, candidate: dict | None, pairs: list[tuple[str, str]], factors: list[str]) -> list[str]:
    """What a comparison of two runs' lock records should say: a warning per other difference,
    then the factor under test."""
    if not baseline or not candidate:
        return ["warning: a run has no lock record (an older agentbench wrote it); the runs may differ in anything"]
    changed = changed_groups(baseline, candidate, pairs)
    lines = [f"warning: {line}" for line in lock_warnings(changed, factors)]
    tested = factors or (list(changed) if len(changed) == 1 else [])
    return lines + ([f"factor under test: {', '.join(tested)}"] if tested else [])


def lock_warnings(changed: dict[str, list[str]], factors: list[str]) -> list[str]:
    """One line per group that differs besides the factor(s) under test. With no factor named,
    a difference confined to one group is taken as the factor."""
    if not factors and len(changed) == 1:
        return []
    return [f"the runs also differ in {group}: {', '.join(paths[:6])}{' ...' if len(paths) > 6 else ''}"
            for group, paths in changed.items() if group not in factors]
