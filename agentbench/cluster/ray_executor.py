"""Attempts as Ray tasks. Each runs on a node that advertises a Docker engine with the custom
resource `agentbench_docker` (its value: how many attempts the node runs at once), in that
node's engine; its steps come back as they happen, through an actor on the driver's node, so
that the driver stays the store's one writer and the cost cap sees every call. A node lost
mid-attempt makes the try a sandbox error, which the runner tries again elsewhere."""

from __future__ import annotations

import socket
from dataclasses import replace

import ray
import ray.exceptions
import ray.util
from ray.util.scheduling_strategies import NodeAffinitySchedulingStrategy

from agentbench import __version__
from agentbench.attempt import AttemptJob, AttemptResult, run_attempt
from agentbench.cluster.actors import ClusterGates, StepRelay
from agentbench.contracts import AttemptStopped, OnStep
from agentbench.errors import UserError
from agentbench.executors import CLUSTER_LABEL, RESOURCE

POLL_S = 0.5


def node_name() -> str:
    """This node as attempts record it: host and Ray node id (several nodes may share a host)."""
    return f"{socket.gethostname()}:{ray.get_runtime_context().get_node_id()[:8]}"


@ray.remote(num_cpus=0, max_retries=0)
def attempt_on_node(job: AttemptJob, relay, key: str) -> AttemptResult:
    """One try, its steps put on the driver's relay as they happen; never retried by Ray (the
    runner decides what a lost try costs)."""
    result = run_attempt(job, lambda step: relay.put.remote(key, step))
    result.node = node_name()
    return result


@ray.remote(num_cpus=0)
def node_facts() -> dict:
    """What the lock records of a node: its name, agentbench's version, its Docker engine's
    version and id."""
    from agentbench.sandbox.docker import docker_client

    client = docker_client()
    return {"node": node_name(), "agentbench": __version__, "docker": client.version().get("Version"),
            "engine": client.info().get("ID")}


@ray.remote(num_cpus=0)
def remove_on_node(labels: dict[str, str]) -> int:
    """Remove the labelled containers of this node's engine; how many."""
    from agentbench.sandbox.docker import docker_client, remove_containers

    return remove_containers(docker_client(), labels)


def answers(address: str, timeout_s: float = 3.0) -> bool:
    """Whether something listens at a plain HOST:PORT address (other forms are left to Ray)."""
    host, _, port = address.rpartition(":")
    if not port.isdigit() or "://" in host:
        return True
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
        return True
    except OSError:
        return False


def version_problem(facts: list[dict], version: str = __version__) -> str | None:
    """Why the nodes cannot run this driver's attempts, if a node's agentbench differs."""
    other = [f"{fact['node']} has {fact['agentbench']}" for fact in facts if fact["agentbench"] != version]
    return f"this driver runs agentbench {version}, but {', '.join(other)}" if other else None


class RayExecutor:
    """Runs attempts on the Ray cluster at `address` (default: RAY_ADDRESS, else a local head)."""

    def __init__(self, address: str | None = None):
        where = address or "auto"
        try:
            if address and not answers(address):
                raise ConnectionError("nothing listens there")
            ray.init(address=where, logging_level="ERROR", log_to_driver=False)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            raise UserError(f"No Ray cluster answers at {where}: start one with `agentbench worker --head --slots N`, "
                            f"or pass its address with --ray-address "
                            f"({str(exc).splitlines()[0][:200]}).") from None
        docker_nodes = [node for node in ray.nodes() if node["Alive"] and node["Resources"].get(RESOURCE)]
        if not docker_nodes:
            ray.shutdown()
            raise UserError(f"No node of the Ray cluster at {where} has a Docker engine: join one with "
                            f"`agentbench worker --address ADDR --slots N` (or `ray start --resources '{{\"{RESOURCE}\": N}}'`).")
        self.node_ids = [node["NodeID"] for node in docker_nodes]
        self.slots = int(sum(node["Resources"][RESOURCE] for node in docker_nodes))
        self.nodes = ray.get([node_facts.options(scheduling_strategy=self._on(node)).remote() for node in self.node_ids])
        problem = version_problem(self.nodes)
        if problem:
            ray.shutdown()
            raise UserError(f"The cluster's nodes must run this agentbench: {problem}; install the same version on every node.")
        self.reached_at = ray.util.get_node_ip_address()  # the baselines served here, for the nodes
        here = NodeAffinitySchedulingStrategy(ray.get_runtime_context().get_node_id(), soft=False)
        self.relay = StepRelay.options(scheduling_strategy=here).remote()
        self.gates = ClusterGates.options(scheduling_strategy=here).remote()

    def run(self, key: str, job: AttemptJob, on_step: OnStep) -> AttemptResult:
        """One try of an attempt on whichever node has a slot; `key` names the try."""
        job = replace(job, model=replace(job.model, cluster_gates=self.gates), labels={**job.labels, CLUSTER_LABEL: "1"})
        pending = attempt_on_node.options(resources={RESOURCE: 1}).remote(job, self.relay, key)
        relayed: list = []
        done = False
        while not done:
            done = bool(ray.wait([pending], timeout=POLL_S)[0])
            for step in ray.get(self.relay.take.remote(key)):
                relayed.append(step)
                on_step(step)
        try:
            result = ray.get(pending)
        except ray.exceptions.RayError as exc:
            self._release_lost_nodes()
            return AttemptResult(AttemptStopped("sandbox_error", f"the node running it was lost ({exc.__class__.__name__})"),
                                 steps=relayed)
        for step in result.steps[len(relayed):]:  # reported after the last look at the relay
            on_step(step)
        self.relay.take.remote(key)
        return result

    def _release_lost_nodes(self) -> None:
        """Give back the connection slots of nodes that left the cluster mid-call."""
        alive = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
        ray.get([self.gates.release_node.remote(node) for node in self.node_ids if node not in alive])

    def remove_sandboxes(self, labels: dict[str, str]) -> int:
        """Remove the labelled containers on every node still in the cluster."""
        alive = {node["NodeID"] for node in ray.nodes() if node["Alive"]}
        refs = [remove_on_node.options(scheduling_strategy=self._on(node)).remote(labels) for node in self.node_ids if node in alive]
        return sum(ray.get(refs, timeout=120))

    def close(self) -> None:
        ray.shutdown()

    @staticmethod
    def _on(node_id: str) -> NodeAffinitySchedulingStrategy:
        return NodeAffinitySchedulingStrategy(node_id, soft=False)
