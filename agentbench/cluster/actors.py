"""The cluster's shared state, held by actors on the driver's node: the steps attempts report
as they happen, and the caps on concurrent calls per model endpoint."""

from __future__ import annotations

import asyncio
from collections import Counter

import ray

from agentbench.models.route import Gate


@ray.remote(num_cpus=0)
class StepRelay:
    """Steps of attempts in flight, put by the nodes and taken by the driver, per try."""

    def __init__(self):
        self.steps: dict[str, list] = {}

    def put(self, key: str, step) -> None:
        self.steps.setdefault(key, []).append(step)

    def take(self, key: str) -> list:
        return self.steps.pop(key, [])


@ray.remote(num_cpus=0)
class ClusterGates:
    """One semaphore per endpoint for the whole cluster, with the slots each node holds, so that
    a lost node's slots are given back (release_node) rather than lost with it."""

    def __init__(self):
        self.semaphores: dict[str, asyncio.Semaphore] = {}
        self.held: Counter[tuple[str, str]] = Counter()  # (endpoint key, node id) -> slots held
        self.lost: set[str] = set()

    async def acquire(self, key: str, slots: int, node: str) -> None:
        await self.semaphores.setdefault(key, asyncio.Semaphore(slots)).acquire()
        self.held[(key, node)] += 1
        if node in self.lost:  # it waited here while its node went away
            await self.release(key, node)

    async def release(self, key: str, node: str) -> None:
        if self.held[(key, node)] > 0:
            self.held[(key, node)] -= 1
            self.semaphores[key].release()

    async def release_node(self, node: str) -> int:
        """Give back every slot the lost `node` holds, and any it is still waiting for; how many."""
        self.lost.add(node)
        freed = 0
        for key, holder in [pair for pair in self.held if pair[1] == node]:
            while self.held[(key, holder)]:
                await self.release(key, holder)
                freed += 1
        return freed


class ClusterGate:
    """A model call's slot on its endpoint, taken from the cluster's gates (a context manager,
    as a process-local semaphore is)."""

    def __init__(self, gates, gate: Gate):
        self.gates, self.gate = gates, gate
        self.node = ray.get_runtime_context().get_node_id()

    def __enter__(self) -> None:
        ray.get(self.gates.acquire.remote(self.gate.key, self.gate.slots, self.node))

    def __exit__(self, *exc) -> None:
        self.gates.release.remote(self.gate.key, self.node)
