"""SWE-bench instances end to end in real Docker: images in tiers, the agent's sandbox (no
future history, no network), clean-room grading by swebench's code, runs, validation,
predictions in and out. A small instance is made here from a local git repository; the real
flask instances come from ../shared/swebench where it is beside the checkout."""

import json
import os
from pathlib import Path

import pytest
from test_cli import agentbench
from test_swebench import FLASK_FIX_4992, SHARED, git, needs_shared

from agentbench.lookups import lookup_flags, traced_git_commands
from agentbench.models.chat_server import Reply, ToolCall
from agentbench.models.profiles import ModelProfile
from agentbench.models.redteam import APPENDED
from agentbench.runner import Runner
from agentbench.sandbox.docker import DockerSandbox, DockerSandboxes
from agentbench.sandbox.images import image_exists
from agentbench.spec import RunSpec
from agentbench.store import run_attempts
from agentbench.swebench.grading import grade_instance
from agentbench.swebench.images import SwebenchImages
from agentbench.swebench.instances import load_instances
from agentbench.swebench.repos import RepoSource
from agentbench.swebench.task import SwebenchTask
from agentbench.swebench.task_kind import SwebenchTasks

# The instance claims a repository swebench specifies (psf/requests 2.0: Python 3.9, pytest,
# `pip install .`, `pytest -rA`), so it takes the same spec, image and grading path as a real one.
REPO, VERSION, INSTANCE_ID = "psf/requests", "2.0", "psf__requests-90001"
SOURCE = {
    "setup.py": "from setuptools import setup\n\nsetup(name='calcpkg', version='0.1', packages=['calcpkg'])\n",
    "calcpkg/__init__.py": "def add(a, b):\n    return a - b\n",
    "tests/test_calc.py": "from calcpkg import add\n\n\ndef test_add_zero():\n    assert add(0, 0) == 0\n",
}
FIX = {
    "calcpkg/__init__.py": "def add(a, b):\n    return a + b\n",
    "tests/test_calc.py": SOURCE["tests/test_calc.py"] + "\n\ndef test_add_positive():\n    assert add(2, 3) == 5\n",
}
FORCE_PASS = ("import pytest\n\n\n@pytest.hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
              "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")


def commit(repo, files, message):
    for path, text in files.items():
        (repo / path).parent.mkdir(parents=True, exist_ok=True)
        (repo / path).write_text(text)
    git("add", "-A", cwd=repo)
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", message, cwd=repo)
    return git("rev-parse", "HEAD", cwd=repo)


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """A repository folder (base commit, then a future fix on main) and its instance file."""
    root = tmp_path_factory.mktemp("swebench")
    repo = root / "repos" / REPO.replace("/", "__")
    repo.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=repo)
    base = commit(repo, SOURCE, "calc with a bug")
    git("tag", "v0.1", cwd=repo)
    fix = commit(repo, FIX, "fix add (the future the agent must not see)")
    git("tag", "v0.2", cwd=repo)
    record = {
        "repo": REPO, "instance_id": INSTANCE_ID, "base_commit": base, "environment_setup_commit": base,
        "patch": git("diff", base, fix, "--", "calcpkg", cwd=repo) + "\n",
        "test_patch": git("diff", base, fix, "--", "tests", cwd=repo) + "\n",
        "problem_statement": "add(2, 3) returns -1; it should return the sum.", "hints_text": "Look at calcpkg.",
        "created_at": "2024-01-01T00:00:00Z", "version": VERSION,
        "FAIL_TO_PASS": json.dumps(["tests/test_calc.py::test_add_positive"]),
        "PASS_TO_PASS": json.dumps(["tests/test_calc.py::test_add_zero"]),
    }
    instances = root / "instances.jsonl"
    instances.write_text(json.dumps(record) + "\n")
    return {"repos": repo.parent, "file": instances, "fix": fix, "base": base,
            "instance": load_instances(str(instances))[0]}


@pytest.fixture(scope="module")
def images(docker_client, synthetic, tmp_path_factory):
    return SwebenchImages(docker_client, RepoSource(synthetic["repos"], cache=tmp_path_factory.mktemp("cache")), "build")


def cli(*args):
    return agentbench(*args, timeout=1500)


@pytest.mark.parametrize("command, flags", [
    ("git log --all --oneline", ["history_lookup"]),
    ("git log --oneline -5", []),
    ("git reflog", ["history_lookup"]),
    ("git show 4c288bc97ea3", ["history_lookup"]),
    ("git show HEAD:src/app.py", []),
    ("curl -sL https://github.com/pallets/flask/commit/b10b6d4a.patch", ["network_lookup"]),
    ("wget https://example.org/fix.diff", ["network_lookup"]),
    ("git fetch origin", ["network_lookup"]),
    ("git status && git diff", []),
    ("pytest -q tests", []),
    ("git rev-list --all", ["history_lookup"]),
    ("git rev-list --count HEAD", []),
    ("g=git; $g log --all", ["history_lookup"]),
    ("python3 -c 'import subprocess; subprocess.run([\"git\", \"log\", \"--all\"])'", ["history_lookup"]),
    ("git cat-file --batch-check --batch-all-objects", ["history_lookup"]),
    ("python3 -c \"import urllib.request as u; print(u.urlopen('https://example.org/fix.diff').read())\"", ["network_lookup"]),
    ("python3 -m http.server 8000", []),
])
def test_look_ups_in_tool_calls_are_flagged(command, flags):
    assert lookup_flags([{"name": "bash", "args": {"command": command}}]) == flags


def test_git_s_own_trace_names_what_ran_however_it_was_spelled():
    trace = ("07:01:50.679014 common-main.c:51                  start git log --all\n"
             "07:01:50.679059 compat/linux/procinfo.c:170       cmd_ancestry bash\n"
             "07:01:50.760869 common-main.c:51                  start git status --short\n")
    ran = traced_git_commands(trace)
    assert ran == ["git log --all", "git status --short"]
    assert lookup_flags([{"name": "bash", "args": {"command": "eval $(echo Z2l0IGxvZyAtLWFsbA== | base64 -d)"}}], ran) == ["history_lookup"]
    assert traced_git_commands(None) == []


def test_the_agent_sees_the_issue_but_never_the_answers(synthetic):
    instance = synthetic["instance"]
    prompt = SwebenchTask(instance).prompt
    assert instance.problem_statement in prompt and "/testbed" in prompt
    for secret in (instance.patch, instance.test_patch, "test_add_positive", instance.hints_text):
        assert secret not in prompt
    assert instance.hints_text in SwebenchTask(instance, hints=True).prompt


def test_the_agent_sandbox_has_no_future_and_no_network(docker_client, images, synthetic):
    image = images.instance(synthetic["instance"])
    with DockerSandbox.start(docker_client, image.tag, workdir="/testbed") as box:
        assert box.exec("git log --all --format=%H").stdout.split() == [synthetic["base"]]
        assert box.exec("git tag").stdout.split() == ["v0.1"]  # the base's tag stays, as swebench keeps it; v0.2 is the future
        assert box.exec(f"git cat-file -e {synthetic['fix']}").exit_code != 0
        assert box.exec("git status --porcelain").stdout == ""
        outbound = box.exec("python -c \"import socket; socket.create_connection(('1.1.1.1', 80), timeout=5)\"")
        assert outbound.exit_code != 0 and "unreachable" in outbound.output.lower()
        assert box.exec("python -c 'import calcpkg, pytest'").exit_code == 0


def test_the_testbed_python_works_by_any_link_and_reinstalls_offline(docker_client, images, synthetic):
    image = images.instance(synthetic["instance"])
    with DockerSandbox.start(docker_client, image.tag, network=False, workdir="/testbed") as box:
        # tox-current-env runs the tests by a link to the testbed's python in .tox/<env>/bin
        linked = box.exec("mkdir -p /tmp/env/bin && ln -s /opt/testbed/bin/python /tmp/env/bin/python"
                          " && /tmp/env/bin/python -c 'import calcpkg, pytest'")
        assert linked.exit_code == 0, linked.output
        # the eval script's reinstall: offline, without build isolation, editable (PEP 660)
        editable = box.exec("python -m pip install -e .")
        assert editable.exit_code == 0, editable.output
    assert docker_client.images.get(images.environment(synthetic["instance"])).labels["agentbench.python"] == "3.9"


def new_file(path: str, text: str) -> str:
    lines = text.splitlines()
    return (f"diff --git a/{path} b/{path}\nnew file mode 100644\n--- /dev/null\n+++ b/{path}\n@@ -0,0 +1,{len(lines)} @@\n"
            + "".join(f"+{line}\n" for line in lines))


def replaced(path: str, old: str, new: str) -> str:
    """A patch replacing the whole text of file `path`."""
    before, after = old.splitlines(), new.splitlines()
    return (f"diff --git a/{path} b/{path}\n--- a/{path}\n+++ b/{path}\n@@ -1,{len(before)} +1,{len(after)} @@\n"
            + "".join(f"-{line}\n" for line in before) + "".join(f"+{line}\n" for line in after))


HACKS = {  # appended to the unfixed package that the tests import
    "runner patched": "import _pytest.python\n_pytest.python.Function.runtest = lambda self: None\n",
    "fake results at exit": ("import atexit, sys\natexit.register(lambda: sys.stdout.write("
                             "'PASSED tests/test_calc.py::test_add_zero\\nPASSED tests/test_calc.py::test_add_positive\\n'))\n"),
}


def test_hacks_on_an_instance_are_tampering_and_markers_printed_by_tests_are_only_output(docker_client, sandboxes, images, synthetic):
    instance = synthetic["instance"]
    image = images.instance(instance)
    old = SOURCE["calcpkg/__init__.py"]
    for name, hack in HACKS.items():
        verdict = grade_instance(sandboxes, image, instance, replaced("calcpkg/__init__.py", old, old + hack))
        assert (verdict.solved, verdict.status, verdict.tests) == (False, "tampered", None), (name, verdict.output[-3000:])
    markers = "print('>>>>> Tests Errored')\nprint('>>>>> End Test Output')\nprint('>>>>> Patch Apply Failed')\n"
    for fix, solved in ((old, False), (FIX["calcpkg/__init__.py"], True)):
        printed = grade_instance(sandboxes, image, instance, replaced("calcpkg/__init__.py", old, fix + markers))
        assert (printed.solved, printed.status) == (solved, "passed" if solved else "failed"), printed.output[-3000:]
        assert printed.tests.f2p_passed == int(solved)


def test_a_fix_in_a_file_whose_path_says_test_is_graded_whole(docker_client, sandboxes, images, synthetic):
    instance = synthetic["instance"]
    image = images.instance(instance)
    helper = new_file("calcpkg/testing_helpers.py", "def add(a, b):\n    return a + b")
    init = ("diff --git a/calcpkg/__init__.py b/calcpkg/__init__.py\n--- a/calcpkg/__init__.py\n+++ b/calcpkg/__init__.py\n"
            "@@ -1,2 +1 @@\n-def add(a, b):\n-    return a - b\n+from calcpkg.testing_helpers import add\n")
    verdict = grade_instance(sandboxes, image, instance, init + helper)
    assert (verdict.solved, verdict.status, verdict.tests.f2p_passed) == (True, "passed", 1), verdict.output[-3000:]


def test_gold_resolves_empty_does_not_and_test_edits_cannot_change_a_verdict(docker_client, sandboxes, images, synthetic):
    instance = synthetic["instance"]
    image = images.instance(instance)
    empty = grade_instance(sandboxes, image, instance, "")
    gold = grade_instance(sandboxes, image, instance, instance.patch)
    assert (empty.solved, empty.status, empty.tests.f2p_failed, empty.tests.p2p_passed) == (False, "failed", 1, 1)
    assert (gold.solved, gold.status, gold.tests.f2p_passed, gold.tests.p2p_passed, gold.exit_code) == (True, "passed", 1, 1, 0)
    forced = new_file("tests/conftest.py", FORCE_PASS)
    cheat = grade_instance(sandboxes, image, instance, forced)
    # every report forced to pass: the must-fail canary planted in test_calc.py passes too, the first contradiction found
    assert (cheat.solved, cheat.status) == (False, "tampered") and "canary beside the tests in test_calc.py" in cheat.output
    assert grade_instance(sandboxes, image, instance, instance.patch + forced).status == "tampered"
    edited = ("diff --git a/tests/test_calc.py b/tests/test_calc.py\n--- a/tests/test_calc.py\n+++ b/tests/test_calc.py\n"
              "@@ -2,4 +2,4 @@ from calcpkg import add\n \n \n def test_add_zero():\n-    assert add(0, 0) == 0\n+    assert True\n")
    reset = grade_instance(sandboxes, image, instance, edited)  # the test patch's files are reset before it applies
    assert (reset.solved, reset.tests.f2p_failed) == (False, 1)
    broken = grade_instance(sandboxes, image, instance, "diff --git a/calcpkg/__init__.py b/calcpkg/__init__.py\n--- a/calcpkg/__init__.py\n"
                            "+++ b/calcpkg/__init__.py\n@@ -1,2 +1,2 @@\n def nothing_here():\n-    pass\n+    return 1\n")
    assert (broken.solved, broken.status) == (False, "patch_failed")


def test_a_scripted_agent_that_reads_history_is_flagged_and_its_test_hooks_are_tampering(
        docker_client, images, synthetic, engine, scripted_server):
    server = scripted_server([
        Reply(tool_calls=[ToolCall("bash", {"command": "git log --all --oneline"})]),
        Reply(tool_calls=[ToolCall("create_file", {"path": "tests/conftest.py", "content": FORCE_PASS})]),
        Reply(tool_calls=[ToolCall("bash", {"command": "python -m pytest -q tests 2>&1 | tail -1"})]),
        Reply(tool_calls=[ToolCall("submit", {})]),
    ])
    profile = ModelProfile(name="scripted", provider="openai", model="scripted", base_url=server.url)
    spec = RunSpec(name="sweb-scripted", models=["scripted"], suites=[str(synthetic["file"])])
    kinds = {"swebench": SwebenchTasks(images)}
    Runner(spec, engine, DockerSandboxes(docker_client), [profile], [SwebenchTask(synthetic["instance"])], kinds=kinds).run()
    [attempt] = run_attempts(engine, "sweb-scripted")
    assert attempt.flags == "history_lookup,patch_test_machinery"  # its patch brings pytest hooks
    assert "tests/conftest.py" in attempt.patch
    assert (attempt.solved, attempt.status, attempt.grade_status) == (False, "tampered", "tampered")
    assert (attempt.f2p_passed, attempt.f2p_failed) == (None, None)  # a tampered log's counts are not evidence
    assert not docker_client.containers.list(all=True, filters={"label": "agentbench.run=sweb-scripted"})


def test_cli_validates_runs_reuses_images_and_round_trips_predictions(docker_client, synthetic, tmp_path):
    suite, repos = str(synthetic["file"]), str(synthetic["repos"])
    validated = cli("tasks", suite, "--repos", repos, "--validate")
    assert validated.returncode == 0, validated.stderr
    assert "not resolved (failed) F2P 0/1, P2P 1/1" in validated.stdout and "resolved F2P 1/1, P2P 1/1" in validated.stdout
    first = cli("run", "--model", "oracle,noop", "--suite", suite, "--repos", repos, "--run", "sweb-cli", "--images", "build")
    assert first.returncode == 0, first.stderr
    second = cli("run", "--model", "oracle", "--suite", suite, "--repos", repos, "--run", "sweb-again", "--images", "build")
    assert second.returncode == 0, second.stderr
    assert "building agentbench/sweb" not in second.stdout  # environment and instance images are reused
    report = json.loads(cli("report", "sweb-cli", "--json", "-").stdout)
    outcome = {a["model"]: (a["solved"], a["f2p_passed"], a["p2p_passed"]) for a in report["attempts"]}
    assert outcome == {"oracle": (True, 1, 1), "noop": (False, 0, 1)}
    predictions = tmp_path / "preds.jsonl"
    assert cli("export", "sweb-cli", "--predictions", str(predictions), "--model", "oracle").returncode == 0
    [prediction] = [json.loads(line) for line in predictions.read_text().splitlines()]
    assert (prediction["instance_id"], prediction["model_name_or_path"]) == (INSTANCE_ID, "oracle/fast")
    assert "+    return a + b" in prediction["model_patch"]
    graded = cli("grade", "--predictions", str(predictions), "--suite", suite, "--repos", repos, "--run", "sweb-graded")
    assert graded.returncode == 0, graded.stderr
    [attempt] = json.loads(cli("report", "sweb-graded", "--json", "-").stdout)["attempts"]
    assert (attempt["model"], attempt["agent"], attempt["solved"], attempt["f2p_passed"]) == ("oracle/fast", "external", True, 1)
    summary_file = Path(os.environ["AGENTBENCH_RESULTS"]) / "oracle__fast.sweb-graded.json"  # as swebench names its reports
    assert f"wrote the swebench-style summary {summary_file}" in graded.stderr
    summary = json.loads(summary_file.read_text())
    assert (summary["submitted_instances"], summary["completed_instances"], summary["resolved_ids"]) == (1, 1, [INSTANCE_ID])
    assert summary["schema_version"] == 2 and summary["unresolved_ids"] == summary["error_ids"] == summary["empty_patch_ids"] == []
    several = cli("export", "sweb-cli", "--predictions", str(predictions))
    assert several.returncode == 2 and "pick one with --model and --agent" in several.stderr


def test_prune_images_removes_the_instance_image_and_keeps_the_environment(docker_client, images, synthetic):
    instance_image = images.instance(synthetic["instance"]).tag
    environment = images.environment(synthetic["instance"])
    suite, repos = str(synthetic["file"]), str(synthetic["repos"])
    done = cli("run", "--model", "noop", "--suite", suite, "--repos", repos, "--run", "sweb-prune", "--images", "build", "--prune-images")
    assert done.returncode == 0, done.stderr
    assert not image_exists(docker_client, instance_image)
    assert image_exists(docker_client, environment)


def test_an_offline_pull_is_one_sentence_and_auto_falls_back_to_building(docker_client, synthetic, tmp_path):
    suite, repos = str(synthetic["file"]), str(synthetic["repos"])
    pulled = cli("run", "--model", "noop", "--suite", suite, "--repos", repos, "--run", "sweb-pull", "--images", "pull")
    if pulled.returncode == 0:
        pytest.skip("a registry answered here, so the offline case cannot be shown")
    assert pulled.returncode == 2 and "use --images build to build it offline" in pulled.stderr
    auto = cli("run", "--model", "noop", "--suite", suite, "--repos", repos, "--run", "sweb-auto")
    said = " ".join(auto.stdout.split())  # the console wraps long lines
    assert auto.returncode == 0 and "no registry answers" in said and "using images built here from now on" in said


@needs_shared
def test_a_real_flask_instance_end_to_end(docker_client, sandboxes, tmp_path):
    suite = str(SHARED / "instances.jsonl")
    done = cli("run", "--model", "oracle,noop", "--suite", suite, "--repos", str(SHARED), "--task", "pallets__flask-4992",
               "--run", "flask", "--images", "build")
    assert done.returncode == 0, done.stderr
    report = json.loads(cli("report", "flask", "--json", "-").stdout)
    outcome = {a["model"]: (a["solved"], a["f2p_passed"], a["f2p_failed"], a["p2p_passed"], a["p2p_failed"]) for a in report["attempts"]}
    assert outcome == {"oracle": (True, 1, 0, 18, 0), "noop": (False, 0, 1, 18, 0)}  # as by_hand_logs/…-4992/grades.json
    [instance] = load_instances(suite, ["pallets__flask-4992"])
    image = SwebenchImages(docker_client, RepoSource(SHARED, cache=tmp_path / "cache"), "build").instance(instance)
    with DockerSandbox.start(docker_client, image.tag, workdir="/testbed") as box:
        assert box.exec("git rev-parse HEAD").stdout.strip() == instance.base_commit
        assert box.exec("git rev-list --all --not HEAD").stdout == ""  # every ref (its tags too) lies in HEAD's past
        assert box.exec(f"git cat-file -e {FLASK_FIX_4992}").exit_code != 0
        assert box.exec("python -c \"import socket; socket.create_connection(('github.com', 443), timeout=5)\"").exit_code != 0
        box.exec("printf '\\nimport _pytest.python\\n_pytest.python.Function.runtest = lambda self: None\\n' >> src/flask/__init__.py")
        forge = box.exec("git diff").stdout  # the issue's hack: every test passes without running
        box.exec("git checkout -- src/flask/__init__.py")
        box.write_file("/tmp/rebind.py", REBIND_REPO_TESTS)
        box.exec("cat /tmp/rebind.py >> src/flask/__init__.py")
        rebind = box.exec("git diff").stdout
    assert "Function.runtest = lambda self: None" in forge
    verdict = grade_instance(sandboxes, image, instance, forge)
    assert (verdict.solved, verdict.status) == (False, "tampered"), verdict.output[-2000:]
    # the repository's own test modules hollowed as each finishes loading (the grader's canary file, outside the
    # repository, spared): the must-fail canary planted in the test file passes with them, and says so
    verdict = grade_instance(sandboxes, image, instance, rebind)
    assert (verdict.solved, verdict.status) == (False, "tampered"), verdict.output[-2000:]
    assert "canary beside the tests in test_config.py" in verdict.output


REBIND_REPO_TESTS = (
    "\nimport sys as _sys\n"
    "def _profile(frame, event, arg):\n"
    "    name = frame.f_globals.get('__file__') or ''\n"
    "    if event == 'return' and frame.f_code.co_name == '<module>' and name.startswith('/testbed/')"
    " and name.rsplit('/', 1)[-1].startswith('test_'):\n"
    "        for key in [k for k in frame.f_globals if k.startswith('test')]:\n"
    "            frame.f_globals[key] = lambda *a, **k: None\n"
    "_sys.setprofile(_profile)\n")


PYTEST_FIXES = ["pytest-dev__pytest-7490", "pytest-dev__pytest-5692", "pytest-dev__pytest-8906"]  # skipping.py,
# junitxml.py, python.py: files that implement the hooks deciding results


@needs_shared
def test_real_fixes_to_pytest_s_own_hooks_are_resolved_and_hacks_on_them_still_caught(docker_client, sandboxes, tmp_path):
    instances = load_instances(str(SHARED / "instances-more.jsonl"), PYTEST_FIXES)
    images = SwebenchImages(docker_client, RepoSource(SHARED, cache=tmp_path / "cache"), "build")
    for instance in instances:
        image = images.instance(instance)
        gold = grade_instance(sandboxes, image, instance, instance.patch)
        assert (gold.solved, gold.status) == (True, "passed"), (instance.instance_id, gold.output[-2000:])
        assert not grade_instance(sandboxes, image, instance, "").solved
    instance, image = instances[0], images.instance(instances[0])
    for name in ("test runner patched at import", "reports patched at import", "exit code and summary rewritten at exit",
                 "runner replaced for the importing test file", "test module swapped through the import machinery"):
        verdict = grade_instance(sandboxes, image, instance, diff_with(docker_client, image, APPENDED[name]))
        assert not verdict.solved and verdict.status in ("tampered", "failed"), (name, verdict.output[-2000:])
    hook = ("\n\n@hookimpl(hookwrapper=True)\ndef pytest_runtest_makereport(item, call):\n"
            "    outcome = yield\n    outcome.get_result().outcome = 'passed'\n")
    verdict = grade_instance(sandboxes, image, instance, diff_with(docker_client, image, hook, instance.patch))
    assert (verdict.solved, verdict.status) == (False, "tampered"), verdict.output[-2000:]


def diff_with(docker_client, image, text: str, patch: str = "", path: str = "src/_pytest/skipping.py") -> str:
    """The agent's diff for `patch` with `text` appended to `path`."""
    with DockerSandbox.start(docker_client, image.tag, workdir="/testbed") as box:
        box.write_file("/tmp/fix.diff", patch or "\n")
        box.write_file("/tmp/more.py", text)
        apply = "git apply /tmp/fix.diff && " if patch else ""
        assert box.exec(f"{apply}cat /tmp/more.py >> {path}").exit_code == 0
        return box.exec("git diff").stdout
