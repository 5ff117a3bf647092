"""`make bench`: the harness's own cost, as ratios against baselines measured in the same run.

Four numbers, each beside the raw timings it comes from:
- lifecycle_ratio: a sandbox created, exec'd once and removed, vs `docker run --rm IMAGE true`;
- exec_ratio: one sandbox exec vs `docker exec CONTAINER true`;
- overhead_share: the part of oracle attempts spent outside the model, the tools and grading;
- concurrency_efficiency: W-fold throughput reached at W workers (wall at 1 / (W x wall at W))
  for attempts against a scripted model with a fixed latency per call;
- startup_ratio: `agentbench --help`, `models` and `report RUN` vs `python -c 'import typer'`;
- cluster_ratio: attempts per minute on a local Ray cluster of two nodes vs one node of the same
  slots (agentbench.cluster.throughput), with the same scripted model.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from agentbench.errors import UserError
from agentbench.models.chat_server import ChatServer, Reply, ToolCall
from agentbench.models.profiles import ModelProfile, get_profile, load_profiles
from agentbench.paths import results_dir
from agentbench.runner import Runner
from agentbench.sandbox.docker import DockerSandbox, DockerSandboxes, docker_client
from agentbench.sandbox.images import ensure_image
from agentbench.spec import RunSpec
from agentbench.store import AttemptRow, run_attempts
from agentbench.store_open import open_store
from agentbench.suites import load_tasks

TARGETS = {"lifecycle_ratio": ("<=", 1.3), "exec_ratio": ("<=", 1.2), "overhead_share": ("<", 0.05),
           "concurrency_efficiency_16": (">=", 0.8)}


def ratio(harness_s: list[float], baseline_s: list[float]) -> float:
    """Median harness time over median baseline time."""
    return statistics.median(harness_s) / statistics.median(baseline_s)


def attempt_span_s(row: AttemptRow) -> float:
    """Seconds from the attempt's start (its image ready) to its verdict."""
    return (row.finished_at - row.started_at).total_seconds()


def overhead_share(rows: list[AttemptRow]) -> float:
    """The share of the attempts' time spent in neither the model, the tools nor grading."""
    total = sum(attempt_span_s(row) for row in rows)
    accounted = sum(row.model_s + row.tool_s + row.grade_s for row in rows)
    return (total - accounted) / total


def concurrency_efficiency(walls_s: dict[int, float]) -> dict[str, float]:
    """Per worker count W: the serial wall over W times the wall at W (1.0 = W-fold throughput)."""
    return {str(workers): walls_s[1] / (workers * wall) for workers, wall in sorted(walls_s.items())}


def busy_share(before: tuple[float, float], after: tuple[float, float]) -> float | None:
    """The share of CPU time spent busy between two (busy, total) readings of /proc/stat."""
    total = after[1] - before[1]
    return (after[0] - before[0]) / total if total > 0 else None


def cpu_times() -> tuple[float, float]:
    """(busy, total) CPU jiffies of the whole machine; (0, 0) where /proc/stat is missing."""
    try:
        fields = [float(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    except OSError:
        return 0.0, 0.0
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0.0)  # idle and iowait
    return sum(fields) - idle, sum(fields)


def target_met(name: str, value: float) -> bool:
    comparison, bound = TARGETS[name]
    return {"<=": value <= bound, "<": value < bound, ">=": value >= bound}[comparison]


def _timed(action) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started


def _docker_cli(*args: str) -> None:
    subprocess.run(["docker", *args], check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def measure_lifecycle(client, image: str, reps: int) -> dict[str, list[float]]:
    """Harness create + exec + remove and raw `docker run --rm`, interleaved, after one warm-up each."""

    def harness() -> None:
        with DockerSandbox.start(client, image, labels={"agentbench.run": "bench"}) as box:
            box.exec("true")

    def raw() -> None:
        _docker_cli("run", "--rm", "--label", "agentbench=1", image, "true")

    harness()  # warm-ups: first runs pay for caches neither side keeps paying for
    raw()
    timings: dict[str, list[float]] = {"harness_s": [], "raw_s": []}
    for _ in range(reps):
        timings["harness_s"].append(_timed(harness))
        timings["raw_s"].append(_timed(raw))
    return timings


def measure_exec(client, image: str, reps: int) -> dict[str, list[float]]:
    """A sandbox exec and a raw `docker exec` into the same container, interleaved."""
    with DockerSandbox.start(client, image, labels={"agentbench.run": "bench"}) as box:
        box.exec("true")  # warm-ups
        _docker_cli("exec", box.container.id, "true")
        timings: dict[str, list[float]] = {"harness_s": [], "raw_s": []}
        for _ in range(reps):
            timings["harness_s"].append(_timed(lambda: box.exec("true")))
            timings["raw_s"].append(_timed(lambda: _docker_cli("exec", box.container.id, "true")))
    return timings


def measure_oracle(client, engine, suite: str) -> list[AttemptRow]:
    """The oracle baseline through the whole harness on `suite`, one attempt at a time."""
    profile = get_profile("oracle", load_profiles())
    spec = RunSpec(name="bench-oracle", models=["oracle"], suites=[suite], workers=1)
    Runner(spec, engine, DockerSandboxes(client), [profile], load_tasks(spec)).run()
    return run_attempts(engine, spec.name)


STARTUP_COMMANDS = {"--help": ["--help"], "models": ["models"], "report": ["report", "bench-oracle"]}


def measure_startup(db_url: str, reps: int) -> dict[str, list[float]]:
    """Each light command's wall time and the bare `import typer`, interleaved, after one warm-up each."""
    python = sys.executable
    commands = {"baseline": [python, "-c", "import typer"],
                **{name: [python, "-m", "agentbench", *args] for name, args in STARTUP_COMMANDS.items()}}
    env = {**os.environ, "AGENTBENCH_DB": db_url}
    timings: dict[str, list[float]] = {name: [] for name in commands}
    for rep in range(reps + 1):
        for name, command in commands.items():
            took = _timed(lambda: subprocess.run(command, check=True, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE))
            if rep:
                timings[name].append(took)
    return timings


def write_echo_task(root: Path) -> Path:
    """A one-file task whose check is a shell test, so grading costs a container and little else."""
    task = root / "bench" / "echo"
    (task / "workspace").mkdir(parents=True)
    (task / "tests").mkdir()
    (task / "workspace" / "answer.txt").write_text("todo\n")
    (task / "tests" / "check.sh").write_text('test "$(cat answer.txt)" = fixed\n')
    (task / "task.yaml").write_text("prompt: Write the word fixed into answer.txt.\nimage: python\n"
                                    "check: bash /grader/tests/check.sh\nsolution: null\n")
    return task.parent


def scripted_fix(latency_s: float):
    """A model that answers each call after `latency_s`: write the answer, then submit."""
    plan = [ToolCall("bash", {"command": "echo fixed > answer.txt"}), ToolCall("submit", {})]

    def respond(request: dict, route: str) -> Reply:
        turn = sum(1 for message in request["messages"] if message["role"] == "assistant")
        calls = [plan[turn]] if turn < len(plan) else []
        return Reply(content=None if calls else "done", tool_calls=calls, prompt_tokens=500, completion_tokens=20,
                     delay_s=latency_s)

    return respond


def measure_concurrency(client, engine, attempts: int, workers: list[int], latency_s: float) -> dict:
    """The wall time of `attempts` scripted attempts at each worker count, all solved or it says so."""
    walls, solved, busy, own_cpu = {}, {}, {}, {}
    with tempfile.TemporaryDirectory() as scratch, ChatServer(scripted_fix(latency_s)) as server:
        suite = write_echo_task(Path(scratch))
        profile = ModelProfile(name="scripted", provider="openai", model="scripted", base_url=server.url,
                               max_connections=max(workers))
        for count in workers:
            spec = RunSpec(name=f"bench-w{count}", models=["scripted"], suites=[str(suite)], epochs=attempts, workers=count)
            started, cpu, own = time.perf_counter(), cpu_times(), time.process_time()
            Runner(spec, engine, DockerSandboxes(client), [profile], load_tasks(spec)).run()
            walls[count], busy[str(count)] = time.perf_counter() - started, busy_share(cpu, cpu_times())
            own_cpu[str(count)] = time.process_time() - own
            solved[str(count)] = sum(row.solved for row in run_attempts(engine, spec.name))
    return {"wall_s": {str(count): wall for count, wall in walls.items()}, "solved": solved, "cpu_busy": busy,
            "harness_cpu_s": own_cpu, "cpus": os.cpu_count(),
            "efficiency": concurrency_efficiency(walls), "calls_per_attempt": 2}


def measure_cluster_figure(client, engine, attempts: int, slots: int, latency_s: float) -> dict:
    """The cluster figure, or why it was not measured (Ray not installed)."""
    try:
        from agentbench.cluster.throughput import measure_cluster
    except ImportError:
        return {"skipped": "Ray is not installed (pip install 'agentbench[cluster]')"}
    with tempfile.TemporaryDirectory() as scratch, ChatServer(scripted_fix(latency_s)) as server:
        profile = ModelProfile(name="scripted", provider="openai", model="scripted", base_url=server.url,
                               max_connections=2 * slots)
        return measure_cluster(client, engine, profile, write_echo_task(Path(scratch)), attempts, slots)


def run_bench(reps: int, attempts: int, workers: list[int], latency_s: float, oracle_suite: str,
              cluster_slots: int = 4) -> dict:
    """Every measurement, in one run, into the bench.json document."""
    if shutil.which("docker") is None:
        raise UserError("make bench compares against the docker command line, which is not installed; install docker.io.")
    if 1 not in workers:
        raise UserError("Concurrency efficiency is measured against one worker; include 1 in --workers.")
    client = docker_client()
    image = ensure_image(client, "python")
    with tempfile.TemporaryDirectory() as scratch:
        engine = open_store(f"sqlite:///{scratch}/bench.db")
        lifecycle = measure_lifecycle(client, image, reps)
        execs = measure_exec(client, image, reps)
        oracle = measure_oracle(client, engine, oracle_suite)
        startup = measure_startup(f"sqlite:///{scratch}/bench.db", max(reps // 4, 3))
        concurrency = measure_concurrency(client, engine, attempts, workers, latency_s)
        cluster = measure_cluster_figure(client, engine, attempts, cluster_slots, latency_s)
    results = {
        "lifecycle_ratio": ratio(lifecycle["harness_s"], lifecycle["raw_s"]),
        "exec_ratio": ratio(execs["harness_s"], execs["raw_s"]),
        "overhead_share": overhead_share(oracle),
        "concurrency_efficiency": concurrency["efficiency"],
        "startup_ratio": {name: ratio(startup[name], startup["baseline"]) for name in STARTUP_COMMANDS},
        "cluster_ratio": cluster.get("ratio"),
    }
    checked = {**results, "concurrency_efficiency_16": concurrency["efficiency"].get("16")}
    return {
        **results,
        "targets": {name: {"target": f"{op} {bound}", "value": checked[name],
                           "met": None if checked[name] is None else target_met(name, checked[name])}
                    for name, (op, bound) in TARGETS.items()},
        "raw": {
            "lifecycle": lifecycle, "exec": execs, "concurrency": concurrency, "startup_s": startup, "cluster": cluster,
            "oracle": [{"task": row.task, "span_s": attempt_span_s(row), "model_s": row.model_s, "tool_s": row.tool_s,
                        "grade_s": row.grade_s, "solved": row.solved} for row in oracle],
        },
        "settings": {"reps": reps, "attempts": attempts, "workers": workers, "latency_s": latency_s,
                     "oracle_suite": oracle_suite, "image": image, "cpus": os.cpu_count(),
                     "cluster_slots": cluster_slots},
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m agentbench.benchmark", description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=20, help="Timed repetitions of lifecycle and exec.")
    parser.add_argument("--attempts", type=int, default=32, help="Scripted attempts per worker count.")
    parser.add_argument("--workers", default="1,4,16", help="Worker counts, comma-separated (1 included).")
    parser.add_argument("--latency", type=float, default=1.0, help="Seconds the scripted model takes per call.")
    parser.add_argument("--oracle-suite", default="multistep", help="Suite the oracle attempts run on.")
    parser.add_argument("--cluster-slots", type=int, default=4, help="Slots of each node of the cluster figure.")
    parser.add_argument("--out", type=Path, default=None, help="Where to write bench.json (default results/bench.json).")
    args = parser.parse_args(argv)
    document = run_bench(args.reps, args.attempts, [int(w) for w in args.workers.split(",")], args.latency, args.oracle_suite,
                         args.cluster_slots)
    out = args.out or results_dir() / "bench.json"
    out.write_text(json.dumps(document, indent=2) + "\n")
    print(json.dumps({key: document[key] for key in ("lifecycle_ratio", "exec_ratio", "overhead_share",
                                                      "concurrency_efficiency", "startup_ratio", "cluster_ratio",
                                                      "targets")}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    try:
        main()
    except UserError as exc:
        raise SystemExit(f"error: {exc}") from None
