"""The contracts of agentbench.contracts, held against every implementation: each sandbox
backend named in agentbench.sandbox.backends, and each kind of task the CLI serves. A new
backend or task kind passes these before anything else runs on it."""

import multiprocessing
import time

import pytest
from conftest import FIXTURES
from test_swebench_run import images, synthetic  # noqa: F401  (fixtures: a synthetic SWE-bench instance)

from agentbench.attempt import AttemptJob, run_attempt
from agentbench.contracts import Budget, ContainerExited, Verdict
from agentbench.harbor.task import load_harbor_suite
from agentbench.harbor.task_kind import HarborTasks
from agentbench.models.builtin import BuiltinModels, replay
from agentbench.models.endpoint import Endpoint
from agentbench.models.profiles import ModelProfile
from agentbench.models.route import Gate, ModelRoute
from agentbench.sandbox.backends import BACKENDS, sandbox_factory
from agentbench.swebench.task import SwebenchTask
from agentbench.swebench.task_kind import SwebenchTasks
from agentbench.task_kinds import FolderTasks
from agentbench.tasks import load_suite

LABELS = {"agentbench.run": "conformance"}


@pytest.fixture(params=sorted(BACKENDS))
def backend(request, docker_client):
    """Each backend, connected (every shipped one runs on this machine's Docker engine)."""
    factory = sandbox_factory(request.param)
    yield factory
    factory.remove(LABELS)


@pytest.mark.usefixtures("python_image")
def test_every_sandbox_backend_runs_commands_moves_files_and_cleans_up(backend, python_image, docker_client, tmp_path):
    with backend.start(python_image, LABELS, workdir="/workspace") as box:
        said = box.exec("echo out; echo err >&2; exit 3")
        assert (said.exit_code, said.stdout, said.stderr) == (3, "out\n", "err\n")
        assert box.exec("pwd").stdout == "/workspace\n" and box.exec("pwd", cwd="/tmp").stdout == "/tmp\n"
        slow = box.exec("sleep 30", timeout=1)
        assert slow.timed_out and slow.duration_s < 15
        box.write_file("/workspace/deep/ü.txt", "naïve\n")
        assert box.read_file("/workspace/deep/ü.txt") == "naïve\n"
        with pytest.raises(FileNotFoundError):
            box.read_file("/workspace/absent.txt")
        (tmp_path / "folder").mkdir()
        (tmp_path / "folder" / "a.py").write_text("x = 1\n")
        box.copy_in(tmp_path / "folder", "/workspace/copied")
        assert box.read_file("/workspace/copied/a.py") == "x = 1\n"
        assert box.exec("cat /sys/class/net/eth0/operstate").exit_code != 0  # no network unless asked
        box.exec("kill 1", timeout=5)
        with pytest.raises(ContainerExited):
            deadline = time.monotonic() + 15
            while time.monotonic() < deadline:  # the engine sees the main process gone within moments, not at once
                box.exec("true")
                time.sleep(0.2)
        box.revive()
        assert box.read_file("/workspace/copied/a.py") == "x = 1\n"  # its files outlive its main process
        box.exec("(setsid sleep 300 >/dev/null 2>&1 &)")
        snapshot = box.snapshot()
    try:
        with backend.start(snapshot, LABELS) as copy:  # a snapshot keeps the files, not the processes
            assert copy.read_file("/workspace/copied/a.py") == "x = 1\n"
            assert "sleep 300" not in copy.exec("ps -eo args").stdout
    finally:
        docker_client.images.remove(snapshot)
    assert isinstance(backend.image_digest(python_image), str)
    with backend.start(python_image, LABELS, network=True) as box:
        assert box.exec("cat /sys/class/net/eth0/operstate").stdout == "up\n"
        assert backend.remove(LABELS) == 1  # a run's leftovers, found by its labels
        box.close()  # closing one that is gone already is fine


def folder_kind(docker_client):
    return FolderTasks(docker_client), load_suite(str(FIXTURES / "tiny"))[0]


def swebench_kind(docker_client, images, synthetic):  # noqa: F811
    return SwebenchTasks(images), SwebenchTask(synthetic["instance"])


def harbor_kind(docker_client):
    return HarborTasks(docker_client), load_harbor_suite("terminal", ["install-cli-tool"])[0]


@pytest.mark.parametrize("make", [folder_kind, swebench_kind, harbor_kind], ids=["folder", "swebench", "harbor"])
@pytest.mark.usefixtures("python_image")
def test_every_task_kind_prepares_sets_up_and_grades_clean_room(make, docker_client, sandboxes, images, synthetic):  # noqa: F811
    kind, task = make(docker_client, images, synthetic) if make is swebench_kind else make(docker_client)
    assert all(isinstance(note, str) for note in kind.prepare([task]))
    work = {}
    for name, solution in (("untouched", None), ("solved", task.solution_patch)):
        with sandboxes.start(kind.image(task), LABELS, workdir=task.workdir) as box:
            kind.setup(box, task)
            if solution is not None:  # as the oracle replays it
                path, command = replay(solution)
                box.write_file(path, solution)
                assert box.exec(command, timeout=300).exit_code == 0
            work[name] = kind.capture(box, task)
    untouched = kind.grade(sandboxes, task, work["untouched"], LABELS)
    solved = kind.grade(sandboxes, task, work["solved"], LABELS)
    assert isinstance(untouched, Verdict) and not untouched.solved
    assert solved.solved, solved.output[-2000:]
    kind.release(task)
    assert not sandboxes.remove(LABELS)  # grading left no sandbox behind


@pytest.mark.parametrize("make", [folder_kind, swebench_kind, harbor_kind], ids=["folder", "swebench", "harbor"])
@pytest.mark.usefixtures("python_image")
def test_an_attempt_of_every_task_kind_runs_in_another_process(make, docker_client, sandboxes, images, synthetic):  # noqa: F811
    """An attempt is a plain value in and out: sent to a fresh interpreter (nothing shared but
    what it carries), it runs there and its result comes back."""
    kind, task = make(docker_client, images, synthetic) if make is swebench_kind else make(docker_client)
    kind.prepare([task])
    results = {}
    with BuiltinModels({task.id: task.solution_patch}) as builtin, multiprocessing.get_context("spawn").Pool(1) as elsewhere:
        for baseline in ("oracle", "noop"):
            profile = ModelProfile(name=baseline, provider="builtin", model=baseline)
            route = ModelRoute(profile, Endpoint(builtin.base_url(task.id), baseline, "none"), Gate(baseline, 1), False, "travel")
            job = AttemptJob(task, kind, sandboxes, "minimal", route, Budget(), LABELS)
            results[baseline] = elsewhere.apply(run_attempt, (job,))
    oracle, noop = results["oracle"], results["noop"]
    assert oracle.verdict.solved and oracle.stop.reason == "submitted" and oracle.patch.strip(), oracle.stop.detail
    assert not noop.verdict.solved and (noop.patch == "" or task.kind == "harbor")  # harbor: a snapshot's name
    assert oracle.steps and oracle.wall_s > 0 and oracle.image == kind.image(task)
    assert not sandboxes.remove(LABELS)  # the other process removed what it started
