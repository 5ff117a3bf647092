"""Harbor task folders without Docker: task.toml read as Harbor reads it (versions, deprecated
fields, what agentbench refuses), Dockerfiles parsed, rewards read, the oracle's script and the
notes a run records where it differs from what a task asks."""

import io
import re
import shutil
import tarfile

import docker.errors
import pytest
from test_cli import agentbench

from agentbench.errors import UserError
from agentbench.harbor import images
from agentbench.harbor.grading import Reward, canary_script, read_reward
from agentbench.harbor.images import (
    dockerfile_bases,
    dockerfile_workdir,
    folder_tar,
    make_available,
)
from agentbench.harbor.task import harbor_root, load_harbor_suite
from agentbench.harbor.task_kind import deviations
from agentbench.models.builtin import PATCH_FILE, RUN_SCRIPT, SCRIPT_FILE, oracle_plan
from agentbench.paths import tasks_dir
from agentbench.spec import RunSpec
from agentbench.suites import load_tasks

TERMINAL = tasks_dir() / "terminal"


@pytest.fixture
def task_copy(tmp_path):
    """A copy of a shipped Harbor task under a suite folder of its own, to break on purpose."""
    suite = tmp_path / "suite"
    shutil.copytree(TERMINAL / "add-service-user", suite / "one")
    return suite


def test_the_terminal_suite_loads_with_each_task_toml_honoured():
    tasks = {task.id: task for task in load_harbor_suite("terminal")}
    assert sorted(tasks) == ["terminal/add-service-user", "terminal/configure-service", "terminal/install-cli-tool"]
    user, service, tool = tasks.values()
    assert (user.config.schema_version, tool.config.schema_version, service.config.schema_version) == ("1.0", "1.1", "1.3")
    assert (user.workdir, service.workdir, tool.workdir) == ("/root", "/etc/pastebin", "/srv/app")  # WORKDIR, or [environment].workdir
    assert (user.limits.seconds, service.limits.seconds) == (600, 900)  # [agent].timeout_sec
    assert user.config.verifier.timeout_sec == 120
    assert (user.config.environment.memory_mb, user.config.environment.storage_mb) == (2048, 10240)  # memory = "2G", storage = "10G"
    assert not any(task.network or task.verifier_network for task in tasks.values())
    assert tool.prompt.startswith("Install a command `logsum`")
    assert [t.id for t in load_tasks(RunSpec(models=["oracle"], suites=["terminal"], tasks=["install-cli-tool"]))] == [tool.id]


def test_harbor_suites_are_told_apart_from_task_yaml_suites(task_copy):
    assert harbor_root(str(task_copy)) == task_copy  # a folder of Harbor tasks
    assert harbor_root(str(task_copy / "one")) == task_copy / "one"  # one task folder
    assert [t.id for t in load_harbor_suite(str(task_copy / "one"))] == ["suite/one"]
    assert harbor_root("multistep") is None and harbor_root("/no/such/folder") is None


@pytest.mark.parametrize("toml, words", [
    ('schema_version = "2.0"\n', "task.toml schema version '2.0' is not one agentbench knows (1.0, 1.1, 1.2, 1.3)"),
    ('version = "0.9"\n', "schema version '0.9'"),
    ('version = "1.0"\n[[steps]]\nname = "a"\n', "the task needs several steps ([[steps]]), which agentbench cannot run"),
    ('version = "1.0"\n[environment]\nos = "windows"\n', "needs a windows container"),
    ('version = "1.0"\n[environment]\nmemory = "lots"\n', "field `environment` value error, memory 'lots' is not a size such as '2g' or '512m'"),
    ('version = "1.0"\n[agent\n', "is not valid TOML"),
])
def test_a_task_toml_agentbench_cannot_run_is_refused_in_one_sentence(task_copy, toml, words):
    (task_copy / "one" / "task.toml").write_text(toml)
    with pytest.raises(UserError) as refused:
        load_harbor_suite(str(task_copy))
    assert words in str(refused.value) and str(task_copy / "one" / "task.toml") in str(refused.value)
    done = agentbench("tasks", str(task_copy))
    assert done.returncode == 2 and done.stderr.strip().startswith("error: ") and words in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_a_task_without_its_tests_is_refused(task_copy):
    (task_copy / "one" / "tests" / "test.sh").unlink()
    with pytest.raises(UserError, match=r"the Harbor task lacks tests/test.sh\.$"):
        load_harbor_suite(str(task_copy))


def test_a_harbor_folder_that_reaches_outside_or_builds_its_tests_into_the_image_is_refused(task_copy, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(task_copy / "one" / "tests", elsewhere)
    shutil.rmtree(task_copy / "one" / "tests")
    (task_copy / "one" / "tests").symlink_to(elsewhere)
    with pytest.raises(UserError, match="outside its task folder"):
        load_harbor_suite(str(task_copy))
    (task_copy / "one" / "tests").unlink()
    shutil.move(str(elsewhere), task_copy / "one" / "environment" / "tests")
    (task_copy / "one" / "tests").symlink_to("environment/tests")  # the hidden tests in the image's build context
    with pytest.raises(UserError, match="would show the agent the task's tests"):
        load_harbor_suite(str(task_copy))


@pytest.mark.parametrize("json_text, txt_text, expected", [
    (None, "1\n", Reward(1.0, "reward.txt")),
    (None, "0.5", Reward(0.5, "reward.txt")),
    ('{"reward": 1, "tests": 3}', "0", Reward(1.0, "reward.json")),  # reward.json first, as Harbor reads them
    ('{"accuracy": 0.9}', "0", Reward(0.0, "reward.txt")),  # no `reward` key: reward.txt's
    ('{"accuracy": 0.9}', None, Reward(None, "reward.json holds no numeric `reward`")),
    ('{"reward": true}', None, Reward(None, "reward.json holds no numeric `reward`")),
    ("not json", "1", Reward(None, "reward.json is not JSON")),
    (None, "passed", Reward(None, "reward.txt holds 'passed', not a number")),
    (None, None, Reward(None, "no reward file (/logs/verifier/reward.txt or reward.json)")),
])
def test_the_reward_is_read_as_harbor_reads_it(json_text, txt_text, expected):
    assert read_reward(json_text, txt_text) == expected


@pytest.mark.parametrize("test_sh, shebang", [
    ("#!/usr/bin/env bash\nset -e\n", "#!/usr/bin/env bash"), ("#!/bin/sh\n", "#!/bin/sh"),
    ("#!/usr/bin/env python3\n", "#!/bin/bash"), ("echo no shebang\n", "#!/bin/bash")])
def test_the_canary_starts_like_the_task_s_own_test_and_only_wrong_arithmetic_rewards_it(test_sh, shebang):
    canary = canary_script(test_sh)
    assert canary.split("\n")[0] == shebang
    a, b, claimed = (int(n) for n in re.search(r"\$\(\((\d+) \* (\d+)\)\)\" = \"(\d+)\"", canary).groups())
    assert claimed == a * b + 1 and canary != canary_script(test_sh)  # fresh numbers each grading


def test_dockerfiles_name_their_bases_and_working_directory():
    text = ("# build\nFROM --platform=linux/amd64 python:3.12 AS build\nWORKDIR /src\nRUN make \\\n  all\n"
            "FROM build AS test\nFROM agentbench/base:bookworm\nWORKDIR /app\nWORKDIR data\nCOPY --from=build /src /app\n")
    assert dockerfile_bases(text) == ["python:3.12", "agentbench/base:bookworm"]  # not its own stage `build`
    assert dockerfile_workdir(text) == "/app/data"
    assert dockerfile_workdir("FROM a\nWORKDIR /x\nFROM b\n") is None  # the final stage's own


def test_the_environment_folder_keeps_its_modes(tmp_path):
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "run").write_text("#!/bin/sh\n")
    (tmp_path / "bin" / "run").chmod(0o755)
    (tmp_path / "data.txt").write_text("x")
    with tarfile.open(fileobj=io.BytesIO(folder_tar(tmp_path))) as tar:
        modes = {member.name: member.mode & 0o777 for member in tar.getmembers() if member.isfile()}
    assert modes == {"bin/run": 0o755, "data.txt": 0o644}
    assert folder_tar(tmp_path) == folder_tar(tmp_path)  # the same bytes: the image tag is a hash of them


def test_agentbench_s_own_base_is_made_and_other_bases_are_pulled_or_named(monkeypatch, tmp_path):
    class Images:
        def get(self, name):
            raise docker.errors.ImageNotFound(name)

        def pull(self, name):
            raise docker.errors.APIError("no registry", explanation="dial tcp: lookup registry-1.docker.io: no such host")

    class Client:
        images = Images()

    made = []
    monkeypatch.setattr(images, "ensure_base", lambda client, release, ca, progress: made.append(release))
    make_available(Client(), "agentbench/base:trixie", tmp_path / "Dockerfile")
    assert made == ["trixie"]
    with pytest.raises(UserError) as refused:
        make_available(Client(), "ghcr.io/org/tool:1", tmp_path / "Dockerfile")
    assert str(refused.value) == (f"{tmp_path / 'Dockerfile'} starts from image ghcr.io/org/tool:1, which is not on this "
                                  "machine and could not be pulled (dial tcp: lookup registry-1.docker.io: no such host); "
                                  "`docker pull ghcr.io/org/tool:1` where a registry answers or `docker load -i FILE` it, "
                                  "or point FROM at a local image.")


def test_the_oracle_runs_a_solution_script_and_applies_a_patch():
    [task] = load_harbor_suite("terminal", ["add-service-user"])
    script = task.solution_patch
    assert script.startswith("#!/bin/bash\n") and "cd /root\n" in script and script.endswith("exec /solution/solve.sh\n")
    assert [(c.name, c.arguments.get("path")) for c in oracle_plan(script, ["bash", "create_file", "submit"])] == [
        ("create_file", SCRIPT_FILE), ("bash", None), ("submit", None)]
    assert oracle_plan(script, ["bash", "create_file"])[1].arguments["command"] == RUN_SCRIPT
    [heredoc] = oracle_plan(script, ["bash"])
    assert heredoc.arguments["command"].startswith(f"cat > {SCRIPT_FILE} <<") and heredoc.arguments["command"].endswith(RUN_SCRIPT)
    assert oracle_plan("--- a/x\n+++ b/x\n", ["bash", "create_file"])[0].arguments["path"] == PATCH_FILE


def test_a_run_notes_where_it_differs_from_what_tasks_ask(task_copy):
    (task_copy / "one" / "task.toml").write_text(
        'version = "1.0"\n[agent]\nuser = "agent"\n[verifier]\ntimeout_sec = 60\n[environment]\ncpus = 4\nmemory_mb = 8192\n')
    [task] = load_harbor_suite(str(task_copy))
    assert task.network and task.verifier_network  # Harbor's default: the network on
    assert deviations([task]) == [
        "suite/one: task.toml asks for 4 CPUs, 8192 MB of memory; its sandboxes had agentbench's 1 CPU, 2048 MB of memory",
        "suite/one: the agent ran as the image's user, not 'agent' as task.toml asks",
        "graded offline although task.toml lets the verifier reach the network: suite/one",
    ]
    assert deviations(load_harbor_suite("terminal")) == [
        "terminal/add-service-user: task.toml asks for 10240 MB of disk; its sandboxes had agentbench's 4096 MB of disk"]
