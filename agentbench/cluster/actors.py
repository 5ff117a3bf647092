"""The cluster's shared state, held by actors on the driver's node: the steps attempts report
as they happen, and the caps on concurrent calls per model endpoint."""

from __future__ import annotations

import asyncio

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
    """One semaphore per endpoint for the whole cluster."""

    def __init__(self):
        self.semaphores: dict[str, asyncio.Semaphore] = {}

    async def acquire(self, key: str, slots: int) -> None:
        await self.semaphores.setdefault(key, asyncio.Semaphore(slots)).acquire()

    async def release(self, key: str) -> None:
        self.semaphores[key].release()


class ClusterGate:
    """A model call's slot on its endpoint, taken from the cluster's gates (a context manager,
    as a process-local semaphore is)."""

    def __init__(self, gates, gate: Gate):
        self.gates, self.gate = gates, gate

    def __enter__(self) -> None:
        ray.get(self.gates.acquire.remote(self.gate.key, self.gate.slots))

    def __exit__(self, *exc) -> None:
        self.gates.release.remote(self.gate.key)
