"""`make bench`'s cluster figure: attempts per minute on a local Ray cluster of two nodes against
one node of the same slots, in the same run, for the same scripted attempts."""

from __future__ import annotations

import time
from pathlib import Path

import ray
from ray.cluster_utils import Cluster

from agentbench.cluster.ray_executor import RESOURCE, RayExecutor
from agentbench.models.profiles import ModelProfile
from agentbench.runner import Runner
from agentbench.sandbox.docker import DockerSandboxes
from agentbench.spec import RunSpec
from agentbench.store import run_attempts
from agentbench.suites import load_tasks

NODE_COUNTS = (1, 2)


def attempts_per_minute(attempts: int, wall_s: float) -> float:
    return 60.0 * attempts / wall_s


def measure_cluster(client, engine, profile: ModelProfile, suite: Path, attempts: int, slots: int) -> dict:
    """The wall time of `attempts` attempts of `suite`'s task on one node, then on two, each node
    running `slots` at once; the ratio of their attempts per minute (2 nodes over 1)."""
    nodes: dict[str, dict] = {}
    for count in NODE_COUNTS:
        cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {RESOURCE: slots}})
        try:
            for _ in range(count - 1):
                cluster.add_node(num_cpus=1, resources={RESOURCE: slots})
            cluster.wait_for_nodes()
            spec = RunSpec(name=f"bench-cluster-{count}", models=[profile.name], suites=[str(suite)], epochs=attempts,
                           executor="ray")
            runner = Runner(spec, engine, DockerSandboxes(client), [profile], load_tasks(spec),
                            executor=RayExecutor(cluster.address))
            started = time.perf_counter()
            runner.run()
            wall = time.perf_counter() - started
        finally:
            ray.shutdown()
            cluster.shutdown()
        rows = run_attempts(engine, spec.name)
        nodes[str(count)] = {"wall_s": wall, "solved": sum(row.solved for row in rows),
                             "attempts_per_min": attempts_per_minute(attempts, wall),
                             "nodes_used": len({row.node for row in rows})}
    return {"nodes": nodes, "slots_per_node": slots, "attempts": attempts,
            "ratio": nodes["2"]["attempts_per_min"] / nodes["1"]["attempts_per_min"]}
