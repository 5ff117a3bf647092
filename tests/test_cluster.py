"""Attempts on a real local Ray cluster of two nodes (--executor ray): the driver schedules and
records, each node runs at most its slots, a node lost mid-run costs tries, never attempts."""

import json
import os
import socket
import subprocess
import sys
import threading
import time

import docker.errors
import pytest

ray = pytest.importorskip("ray", reason="the cluster tests need Ray (the dev extra installs it)")

from ray.cluster_utils import Cluster  # noqa: E402

from agentbench.executors import CLUSTER_LABEL  # noqa: E402
from agentbench.sandbox.docker import remove_containers  # noqa: E402
from agentbench.sandbox.images import BASE_TAG  # noqa: E402
from agentbench.cluster.ray_executor import RESOURCE, RayExecutor, version_problem  # noqa: E402
from agentbench.models.profiles import get_profile, load_profiles  # noqa: E402
from agentbench.runner import Runner  # noqa: E402
from agentbench.spec import RunSpec  # noqa: E402
from agentbench.store import get_run, run_attempts  # noqa: E402
from agentbench.suites import load_tasks  # noqa: E402

SLOTS = 2


BRIDGE = "ab-docker2"  # the second engine's own bridge: told `--bridge none`, dockerd deletes docker0


@pytest.fixture(scope="module")
def second_engine(python_image, tmp_path_factory):
    """A second Docker engine on its own socket, data root and bridge (a second Docker host, for
    the worker node), holding the python image; its address. It leaves the first engine alone."""
    root = tmp_path_factory.mktemp("docker2")
    socket_path = root / "docker.sock"
    address = f"unix://{socket_path}"
    command = ["dockerd", "--host", address, "--data-root", str(root / "data"), "--exec-root", str(root / "exec"),
               "--pidfile", str(root / "docker.pid"), "--bridge", BRIDGE, "--iptables=false", "--ip-masq=false"]
    daemon = None
    try:
        for step in (["ip", "link", "add", BRIDGE, "type", "bridge"], ["ip", "addr", "add", "10.213.0.1/24", "dev", BRIDGE],
                     ["ip", "link", "set", BRIDGE, "up"]):
            subprocess.run(step, check=True, capture_output=True)
        daemon = subprocess.Popen(command, stdout=open(root / "log", "w"), stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + 60
        while (client := _client(address) if socket_path.exists() else None) is None:
            if daemon.poll() is not None or time.monotonic() > deadline:
                raise OSError(f"it did not answer: {(root / 'log').read_text()[-500:]}")
            time.sleep(0.5)
        client.images.load(docker.from_env().images.get(python_image).save(named=True))
        yield address
        remove_containers(client, None)
    except (OSError, subprocess.CalledProcessError) as exc:
        reason = f"the cluster tests start a second dockerd (as root): {exc}"
        pytest.fail(reason) if os.environ.get("CI") else pytest.skip(reason)
    finally:
        if daemon is not None:
            daemon.terminate()
            daemon.wait(timeout=60)
        subprocess.run(["ip", "link", "delete", BRIDGE], capture_output=True)


def _client(address: str) -> docker.DockerClient | None:
    """A client of the engine at `address`, once it answers."""
    try:
        client = docker.DockerClient(base_url=address)
        return client if client.ping() else None
    except docker.errors.DockerException:
        return None


@pytest.fixture
def cluster(docker_client, second_engine):
    """A head node on the local Docker engine and a worker node on the second engine, each with
    SLOTS slots."""
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "resources": {RESOURCE: SLOTS}})
    worker = cluster.add_node(num_cpus=1, resources={RESOURCE: SLOTS}, env_vars={"DOCKER_HOST": second_engine})
    cluster.wait_for_nodes()
    yield cluster, worker
    ray.shutdown()
    cluster.shutdown()


def run_on(cluster, engine, sandboxes, name: str, during=lambda executor: None) -> Runner:
    spec = RunSpec(name=name, models=["oracle", "noop"], agents=["minimal"], suites=["multistep"], executor="ray")
    profiles = [get_profile(model, load_profiles(None)) for model in spec.models]
    executor = RayExecutor(cluster.address)
    runner = Runner(spec, engine, sandboxes, profiles, load_tasks(spec), executor=executor)
    watcher = threading.Thread(target=during, args=(executor,), daemon=True)
    watcher.start()
    runner.run()
    watcher.join(timeout=60)
    return runner


def check_exactly_once(engine, docker_client, name: str) -> list:
    attempts = run_attempts(engine, name)
    assert len(attempts) == len({a.id for a in attempts}) == 24  # 12 tasks x oracle, noop
    assert all(a.solved for a in attempts if a.model == "oracle") and not any(a.solved for a in attempts if a.model == "noop")
    assert not docker_client.containers.list(all=True, filters={"label": f"agentbench.run={name}"})
    return attempts


def test_a_run_spreads_over_both_nodes_and_records_each_attempt_once(cluster, engine, sandboxes, docker_client, second_engine):
    runner = run_on(cluster[0], engine, sandboxes, "spread")
    attempts = check_exactly_once(engine, docker_client, "spread")
    second = docker.DockerClient(base_url=second_engine)
    assert not second.containers.list(all=True, filters={"label": "agentbench.run=spread"})
    served_at = runner.models.builtin.base_url("t")  # the baselines, where the nodes reach this machine
    assert not served_at.startswith("http://127.") and runner.executor.reached_at in served_at
    assert runner.executor.slots == 2 * SLOTS and len({a.node for a in attempts}) == 2  # the report names each attempt's node
    lock = json.loads(get_run(engine, "spread").lock_json)
    assert {node["node"] for node in lock["nodes"]} == {a.node for a in attempts}
    assert all(node["images"] and node["images"].items() <= lock["images"].items() and node["docker"] for node in lock["nodes"])
    assert all(digest == docker_client.images.get(tag).id for tag, digest in lock["images"].items())
    worker_node = next(node for node in lock["nodes"] if node["node"].endswith(cluster[1].node_id[:8]))
    assert {node["engine"] for node in lock["nodes"]} == {docker_client.info()["ID"], second.info()["ID"]}
    assert worker_node["engine"] == second.info()["ID"]  # the worker ran its attempts in its own engine


def test_a_node_lost_mid_run_costs_tries_not_attempts(cluster, engine, sandboxes, docker_client, second_engine):
    head, worker = cluster
    second = docker.DockerClient(base_url=second_engine)

    def kill_the_worker_once_it_runs_attempts(executor) -> None:
        """A sandbox up in the worker's engine: it is running an attempt; kill the node."""
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if second.containers.list(filters={"label": "agentbench.run=lost", "status": "running"}):
                head.remove_node(worker, allow_graceful=False)
                return
            time.sleep(0.2)

    run_on(head, engine, sandboxes, "lost", kill_the_worker_once_it_runs_attempts)
    attempts = check_exactly_once(engine, docker_client, "lost")
    retried = [a for a in attempts if a.infra_retries]
    assert retried, "no attempt was in flight on the lost node"
    assert all(not a.node.endswith(worker.node_id[:8]) for a in retried)  # tried again on the head
    left = second.containers.list(all=True, filters={"label": "agentbench.run=lost"})
    assert left  # what the lost node was running stays in its engine until it is cleaned up
    from test_cli import agentbench

    pruned = agentbench("sandbox", "prune", "--run", "lost", env={"DOCKER_HOST": second_engine})
    assert f"removed {len(left)} container(s)" in pruned.stdout
    assert not second.containers.list(all=True, filters={"label": "agentbench.run=lost"})


def test_nodes_must_run_the_driver_s_agentbench():
    facts = [{"node": "a:1", "agentbench": "0.4.0"}, {"node": "b:2", "agentbench": "0.3.9"}]
    assert version_problem(facts, "0.4.0") == "this driver runs agentbench 0.4.0, but b:2 has 0.3.9"
    assert version_problem(facts[:1], "0.4.0") is None


def test_no_cluster_at_the_address_is_one_sentence():
    from agentbench.errors import UserError

    with pytest.raises(UserError, match="No Ray cluster answers at 127.0.0.1:9"):
        RayExecutor("127.0.0.1:9")


def test_a_head_started_by_agentbench_worker_runs_a_run_that_resumes_after_its_driver_is_killed(docker_client, tmp_path):
    """The CLI end to end: `agentbench worker --head`, a run whose driver is SIGKILLed after two
    attempts, then `--resume`: every attempt recorded once, no container left."""
    from test_cli import agentbench

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {"AGENTBENCH_RESULTS": str(tmp_path)}
    left = docker_client.containers.create(BASE_TAG, "true", labels={"agentbench": "1", CLUSTER_LABEL: "1"})  # a lost node's
    run = [sys.executable, "-m", "agentbench", "run", "--model", "oracle", "--model", "noop", "--suite", "multistep",
           "--limit", "6", "--run", "w", "--executor", "ray", "--ray-address", f"127.0.0.1:{port}"]
    try:
        started = agentbench("worker", "--head", "--slots", "2", "--port", str(port), env=env)
        assert started.returncode == 0, started.stderr[-2000:]
        assert "removed 1 container(s)" in started.stderr
        with pytest.raises(docker.errors.NotFound):
            left.reload()
        driver = subprocess.Popen(run, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, **env})
        ended = [line for line in iter(driver.stdout.readline, "") if "#0  " in line][:2]  # lines of attempts as they end
        driver.kill()
        driver.wait(timeout=60)
        assert len(ended) == 2
        resumed = agentbench("run", "--resume", "w", env=env)
        assert resumed.returncode == 0, resumed.stderr[-2000:]
    finally:
        subprocess.run([sys.executable, "-m", "ray.scripts.scripts", "stop", "--force"], capture_output=True, timeout=120)
    report = json.loads(agentbench("report", "w", "--json", "-", env=env).stdout)
    assert len(report["attempts"]) == len({(a["task"], a["model"], a["epoch"]) for a in report["attempts"]}) == 12
    assert all(a["solved"] == (a["model"] == "oracle") for a in report["attempts"])
    assert {a["node"] for a in report["attempts"]} == set(report["nodes"]) == {report["lock"]["nodes"][0]["node"]}
    assert not docker_client.containers.list(all=True, filters={"label": "agentbench.run=w"})


def test_an_endpoint_s_connection_cap_holds_across_the_cluster_s_nodes(cluster):
    from agentbench.cluster.actors import ClusterGate, ClusterGates
    from agentbench.cluster.ray_executor import node_name
    from agentbench.models.route import Gate

    head, _ = cluster
    ray.init(address=head.address, logging_level="ERROR", log_to_driver=False)
    gates = ClusterGates.remote()

    @ray.remote(num_cpus=0, resources={RESOURCE: 1})
    def call_through(gate: Gate) -> tuple[str, float, float]:
        with ClusterGate(gates, gate):
            entered = time.time()
            time.sleep(0.5)
            return node_name(), entered, time.time()

    held = ray.get([call_through.remote(Gate("endpoint", 2)) for _ in range(8)])
    assert len({node for node, _, _ in held}) == 2  # both nodes called
    moments = sorted([(entered, 1) for _, entered, _ in held] + [(left, -1) for _, _, left in held])
    in_flight = [sum(step for _, step in moments[:index + 1]) for index in range(len(moments))]
    assert max(in_flight) == 2  # never more than the cap at once, over four slots on two nodes


def test_a_lost_node_s_connection_slots_are_given_back(cluster):
    from agentbench.cluster.actors import ClusterGates

    ray.init(address=cluster[0].address, logging_level="ERROR", log_to_driver=False)
    gates = ClusterGates.remote()
    ray.get(gates.acquire.remote("endpoint", 1, "lost-node"))
    waiting = gates.acquire.remote("endpoint", 1, "lost-node")  # its next call, queued when the node goes
    here = gates.acquire.remote("endpoint", 1, "head")
    assert not ray.wait([here], timeout=1)[0]  # the cap is held
    assert ray.get(gates.release_node.remote("lost-node")) == 1
    ray.get(waiting)  # had the slot, and gave it straight back
    assert ray.wait([here], timeout=10)[0]  # the head's call has it


def test_the_cost_cap_holds_for_the_whole_cluster(cluster, engine, sandboxes, scripted_server):
    """The driver alone starts attempts, so --max-cost counts what every node's attempts spend."""
    from agentbench.models.chat_server import Reply
    from agentbench.models.profiles import ModelProfile, Prices

    server = scripted_server([Reply(content="Done.", prompt_tokens=100_000, completion_tokens=5)])
    profile = ModelProfile(name="priced", provider="openai", model="scripted", base_url=server.url,
                           prices=Prices(input_per_mtok=1.0, output_per_mtok=2.0))  # $0.10001 an attempt

    def spec(name: str, epochs: int, **cluster) -> RunSpec:
        return RunSpec(name=name, models=["priced"], agents=["minimal"], suites=["multistep"], limit=1, epochs=epochs,
                       max_cost=0.35, **cluster)

    Runner(spec("earlier", 1), engine, sandboxes, [profile], load_tasks(spec("earlier", 1))).run()  # what an attempt costs
    capped = spec("capped", 8, executor="ray")
    status = Runner(capped, engine, sandboxes, [profile], load_tasks(capped), executor=RayExecutor(cluster[0].address)).run()
    attempts = run_attempts(engine, "capped")
    assert status == "capped" and len(attempts) == 3  # a fourth would have made $0.40, over four free slots
    assert sum(a.cost_usd for a in attempts) == pytest.approx(3 * 0.10001)
