"""Sequential paired decisions (`agentbench run ... --decide`): two configurations run on the
same tasks in a seeded random order, each task's paired difference (candidate's solve rate minus
the baseline's) enters an anytime-valid confidence sequence as the tasks complete in that order,
and the run stops scheduling as soon as the sequence decides: the difference excludes zero, or
lies inside the equivalence margin asked for.

The confidence sequence is the hedged betting one of Waudby-Smith and Ramdas (2023) for a mean
of values in [0, 1] (the difference mapped from [-1, 1]): for each candidate mean m on a grid,
two bettors stake a predictable fraction of their capital on the next value being above or
below m; m leaves the set once their averaged capital reaches 1/alpha. By Ville's inequality
the chance that the true mean ever leaves it is at most alpha, however often it is looked at,
so stopping at the first decision keeps the error at alpha. It adapts to the variance: paired
differences are mostly 0, so it decides far sooner than a Hoeffding bound would.
"""

from __future__ import annotations

import hashlib
import math
import threading
from dataclasses import dataclass

import numpy as np

GRID = np.linspace(0.0, 1.0, 801)  # candidate means of the mapped difference, (d + 1) / 2
SHRINK = 0.5  # the largest stake, as a share of what keeps the capital non-negative


class ConfidenceSequence:
    """The running confidence set of a mean of values in [0, 1], at level 1 - alpha."""

    def __init__(self, alpha: float = 0.05):
        self.alpha = alpha
        self.up = np.ones_like(GRID)  # the capital of the bettor on "above m", per m
        self.down = np.ones_like(GRID)
        self.alive = np.ones_like(GRID, dtype=bool)
        self.n, self.total, self.squares = 0, 0.0, 0.25  # running mean and variance estimates, with a prior point

    def add(self, x: float) -> None:
        """One more observation in [0, 1]."""
        mean = (0.5 + self.total) / (self.n + 1)
        variance = self.squares / (self.n + 1)
        t = self.n + 1
        stake = math.sqrt(2 * math.log(2 / self.alpha) / (variance * t * math.log(t + 1)))
        with np.errstate(divide="ignore"):
            up = np.minimum(stake, SHRINK / np.maximum(GRID, 1e-12))
            down = np.minimum(stake, SHRINK / np.maximum(1 - GRID, 1e-12))
        self.up *= 1 + up * (x - GRID)
        self.down *= 1 - down * (x - GRID)
        self.alive &= (self.up + self.down) / 2 < 1 / self.alpha
        self.n += 1
        self.total += x
        self.squares += (x - mean) ** 2

    def interval(self) -> tuple[float, float]:
        """The smallest interval holding the confidence set, on the mapped scale [0, 1]."""
        kept = GRID[self.alive]
        if kept.size == 0:  # every m rejected: the set is empty only by the grid's coarseness
            mean = self.total / max(self.n, 1)
            return (mean, mean)
        return (float(kept[0]), float(kept[-1]))


def difference_interval(sequence: ConfidenceSequence) -> tuple[float, float]:
    """The interval of the mean paired difference, back on its own scale [-1, 1]."""
    low, high = sequence.interval()
    return (2 * low - 1, 2 * high - 1)


def verdict(interval: tuple[float, float], margin: float | None) -> str | None:
    """`better` or `worse` (the candidate's, when the interval excludes 0), `equivalent` (inside
    +-margin), or None while undecided."""
    low, high = interval
    if low > 0:
        return "better"
    if high < 0:
        return "worse"
    if margin is not None and -margin < low and high < margin:
        return "equivalent"
    return None


@dataclass
class Decision:
    """Where a sequence stands: the tasks in it so far, the interval, the verdict."""

    tasks: int
    interval: tuple[float, float]
    verdict: str | None


def decide(differences: list[float], alpha: float = 0.05, margin: float | None = None) -> Decision:
    """Feed task differences in order until the sequence decides (the rest are not looked at)."""
    sequence = ConfidenceSequence(alpha)
    interval = (-1.0, 1.0)
    for count, difference in enumerate(differences, start=1):
        sequence.add((difference + 1) / 2)
        interval = difference_interval(sequence)
        found = verdict(interval, margin)
        if found:
            return Decision(count, interval, found)
    return Decision(len(differences), interval, None)


def task_difference(base: list[dict], cand: list[dict]) -> float | None:
    """A task's paired difference: the candidate's solve rate over its graded epochs minus the
    baseline's; None when a side graded none (errors are left out, as everywhere)."""
    graded = [[a for a in side if a["status"] != "error"] for side in (base, cand)]
    if not all(graded):
        return None
    return sum(a["solved"] for a in graded[1]) / len(graded[1]) - sum(a["solved"] for a in graded[0]) / len(graded[0])


def sequence_of(attempts: list[dict], order: list[str], configs: tuple[str, str], epochs: int) -> list[float]:
    """The differences of the tasks in `order` whose every attempt (both configurations, every
    epoch) is done, up to the first one that is not: the prefix a decision may rest on, the same
    whenever and wherever it is computed."""
    cells: dict[tuple[str, str], list[dict]] = {}
    for a in attempts:
        cells.setdefault((a["task"], f"{a['model']}/{a['agent']}"), []).append(a)
    differences = []
    for task in order:
        sides = [cells.get((task, config), []) for config in configs]
        if any(len(side) < epochs for side in sides):
            break
        difference = task_difference(*sides)
        if difference is not None:
            differences.append(difference)
    return differences


def task_order(tasks: list[str], seed: str) -> list[str]:
    """The tasks in the seeded random order a decided run takes them in: by a hash of the run's
    name and the task id, so a resumed run goes on in the same order and any subset of the tasks
    (those a report sees) keeps its relative order."""
    return sorted(tasks, key=lambda task: hashlib.sha256(f"{seed}\0{task}".encode()).hexdigest())


class DecisionGate:
    """A decided run's scheduler gate: the sequence over the attempts recorded so far (those of an
    earlier session of the run included), and no new attempt once it has decided."""

    def __init__(self, order: list[str], configs: tuple[str, str], epochs: int, alpha: float, margin: float | None,
                 recorded: list[dict] = ()):
        self.order, self.configs, self.epochs, self.alpha, self.margin = order, configs, epochs, alpha, margin
        self.recorded = list(recorded)
        self.not_started = 0
        self._lock = threading.Lock()
        self.current = self._decision()

    def _decision(self) -> Decision:
        return decide(sequence_of(self.recorded, self.order, self.configs, self.epochs), self.alpha, self.margin)

    def allows(self) -> bool:
        """Whether another attempt may start (counted when it may not)."""
        with self._lock:
            if self.current.verdict is None:
                return True
            self.not_started += 1
            return False

    def add(self, attempt: dict) -> None:
        """An attempt recorded ({task, model, agent, status, solved})."""
        with self._lock:
            self.recorded.append(attempt)
            self.current = self._decision()


def decided_configs(spec, profiles) -> tuple[str, str]:
    """The two configurations a decided run compares (`model/agent`, the baseline first), or a
    sentence saying why the run cannot be one."""
    from agentbench.errors import UserError

    configs = [f"{p.name}/{agent}" for p in profiles for agent in spec.agents]
    if len(configs) != 2:
        raise UserError(f"--decide compares two configurations (two models, or two agents); this run has {len(configs)}: "
                        f"{', '.join(configs)}.")
    return configs[0], configs[1]


def decision_plan(spec, tasks, profiles) -> dict:
    """What a decided run stores before it starts, for its reports: its configurations and how many tasks it has."""
    return {"configs": list(decided_configs(spec, profiles)), "tasks": len(tasks)}


def decision_gate(spec, engine, tasks, profiles) -> DecisionGate | None:
    """The gate of a decided run, fed with what the store already holds of it; None otherwise."""
    if not spec.decide:
        return None
    from agentbench.store import run_attempts

    recorded = [brief(row) for row in run_attempts(engine, spec.name)]  # none for a new run
    return DecisionGate(task_order([t.id for t in tasks], spec.name), decided_configs(spec, profiles), spec.epochs,
                        spec.decide_alpha, spec.decide_margin, recorded)


def brief(row) -> dict:
    """What the sequence needs of a stored attempt."""
    return {"task": row.task, "model": row.model, "agent": row.agent, "status": row.status, "solved": row.solved}


def decision_record(plan: dict, spec: dict, attempts: list[dict]) -> dict | None:
    """The report's `decision` for a decided run (None for others): the configurations, the
    verdict (None while undecided), after how many of the run's tasks, the interval of the paired
    difference at the run's alpha, and the dollars spent against those the whole matrix would
    have cost at the same mean cost per attempt (None when a cost is unknown)."""
    if not spec.get("decide") or not plan:
        return None
    configs = tuple(plan["configs"])
    order = task_order(sorted({a["task"] for a in attempts}), spec["name"])
    now = decide(sequence_of(attempts, order, configs, spec["epochs"]), spec["decide_alpha"], spec.get("decide_margin"))
    costs = [a["cost_usd"] for a in attempts]
    spent = None if any(cost is None for cost in costs) else sum(costs)
    full = plan["tasks"] * spec["epochs"] * 2
    return {"configs": list(configs), "alpha": spec["decide_alpha"], "margin": spec.get("decide_margin"), "verdict": now.verdict,
            "after_tasks": now.tasks, "of_tasks": plan["tasks"], "interval": list(now.interval),
            "attempts": len(attempts), "of_attempts": full, "spent_usd": spent,
            "full_matrix_usd": None if spent is None or not attempts else spent / len(attempts) * full}


def decision_line(decision: dict) -> str:
    """The decision in one sentence, for the terminal and the pages."""
    base, cand = decision["configs"]
    low, high = decision["interval"]
    spent = "" if decision["spent_usd"] is None else f", ${decision['spent_usd']:.4f} of about ${decision['full_matrix_usd']:.4f}"
    if decision["verdict"] is None:
        head = f"undecided after {decision['after_tasks']} of {decision['of_tasks']} tasks"
    else:
        relation = "equivalent to" if decision["verdict"] == "equivalent" else f"{decision['verdict']} than"
        head = f"decided after {decision['after_tasks']} of {decision['of_tasks']} tasks: {cand} is {relation} {base}"
    return (f"{head} (paired difference in [{low:+.3f}, {high:+.3f}], alpha {decision['alpha']:g}; "
            f"{decision['attempts']} of {decision['of_attempts']} attempts{spent})")
