"""SWE-bench instances: records, repository sources, the agent's history-free testbed, swebench's
specs made offline, and grading by swebench's own code against the by-hand reference logs."""

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from agentbench.errors import UserError
from agentbench.swebench.grading import grade_log
from agentbench.swebench.images import BUILD_REQUIRES
from agentbench.swebench.instances import load_instances
from agentbench.swebench.repos import RepoSource
from agentbench.swebench.specs import eval_script, python_for, requirements, spec_for

SHARED = Path(__file__).resolve().parents[2] / "shared" / "swebench"
# Missing, these tests skip locally; under CI they run and fail, and so does the check below.
needs_shared = pytest.mark.skipif(not SHARED.is_dir() and not os.environ.get("CI"),
                                  reason=f"the real SWE-bench fixture is not beside the checkout ({SHARED} is absent)")


def test_ci_has_the_real_swebench_fixture():
    if not os.environ.get("CI"):
        pytest.skip("only CI must have ../shared/swebench")
    assert (SHARED / "instances.jsonl").is_file(), f"CI must run the real SWE-bench tests: {SHARED} is absent"
FLASK_FIX_4992 = "b10b6d4a"  # the upstream fix commit whose parent is 4992's base_commit


def git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True).stdout.strip()


def record(**changes):
    base = {"repo": "pallets/flask", "instance_id": "pallets__flask-1", "base_commit": "a" * 40, "patch": "", "test_patch": "",
            "problem_statement": "p", "hints_text": "", "created_at": "2023-01-01", "version": "2.3",
            "FAIL_TO_PASS": '["tests/test_a.py::test_x"]', "PASS_TO_PASS": "[]", "environment_setup_commit": "b" * 40}
    return {**base, **changes}


def write_jsonl(path, records):
    path.write_text("".join(json.dumps(r) + "\n" for r in records))
    return str(path)


def test_both_record_shapes_load_and_test_lists_are_parsed(tmp_path):
    newer = record(instance_id="pallets__flask-2", FAIL_TO_PASS=["t::a"], image="swebench/x:latest", eval_script="#!/bin/bash",
                   log_parser="parse_log_pytest", eval_type="pass_and_fail")
    classic, modern = load_instances(write_jsonl(tmp_path / "i.jsonl", [record(), newer]))
    assert classic.FAIL_TO_PASS == ["tests/test_a.py::test_x"] and classic.image is None
    assert modern.FAIL_TO_PASS == ["t::a"] and modern.log_parser == "parse_log_pytest"
    (tmp_path / "i.json").write_text(json.dumps([record()]))
    assert [i.instance_id for i in load_instances(str(tmp_path / "i.json"))] == ["pallets__flask-1"]


def test_bad_records_are_one_sentence_each(tmp_path):
    missing = {k: v for k, v in record().items() if k != "base_commit"}
    with pytest.raises(UserError, match=r"instance pallets__flask-1, field `base_commit` is required\."):
        load_instances(write_jsonl(tmp_path / "a.jsonl", [missing]))
    with pytest.raises(UserError, match=r"has no instance pallets__flask-9; it holds 1 instances"):
        load_instances(write_jsonl(tmp_path / "b.jsonl", [record()]), only=["pallets__flask-9"])
    with pytest.raises(UserError, match="instance id pallets__flask-1 appears twice"):
        load_instances(write_jsonl(tmp_path / "c.jsonl", [record(), record()]))
    (tmp_path / "d.jsonl").write_text("{not json\n")
    with pytest.raises(UserError, match=r"d.jsonl, line 1, is not valid JSON"):
        load_instances(str(tmp_path / "d.jsonl"))


def test_specs_come_from_swebench_and_python_from_the_debian_release_that_ships_it(tmp_path):
    [instance] = load_instances(write_jsonl(tmp_path / "i.jsonl", [record()]))
    assert spec_for(instance)["python"] == "3.11" and spec_for(instance)["install"] == "python -m pip install -e ."
    assert (python_for("3.11").release, python_for("3.11").deviation) == ("bookworm", None)
    assert (python_for("3.9").release, python_for("3.13").release) == ("bullseye", "trixie")
    old = python_for("3.6")
    assert (old.python, old.release) == ("3.9", "bullseye")
    assert old.deviation == "swebench specifies Python 3.6; no Debian release ships it, so Python 3.9 (bullseye) is used"
    [unknown_version] = load_instances(write_jsonl(tmp_path / "v.jsonl", [record(version="0.1")]))
    with pytest.raises(UserError, match=r"swebench has no spec for pallets/flask version 0.1 \(it knows .*2.3"):
        spec_for(unknown_version)
    [unknown_repo] = load_instances(write_jsonl(tmp_path / "r.jsonl", [record(repo="acme/rocket")]))
    with pytest.raises(UserError, match="swebench has no specs for repository acme/rocket"):
        spec_for(unknown_repo)
    [not_python] = load_instances(write_jsonl(tmp_path / "c.jsonl", [record(repo="redis/redis", version="13115")]))
    with pytest.raises(UserError, match="redis/redis is not a Python repository"):
        spec_for(not_python)


@pytest.fixture
def local_repo(tmp_path):
    """owner__name with three commits: the base's parent (tagged v0.1), the base (an annotated
    v0.2), and a future fix (tagged, on a branch)."""
    repo = tmp_path / "repos" / "acme__calc"
    repo.mkdir(parents=True)
    git("init", "-q", "-b", "main", cwd=repo)
    commits = []
    for n, body in enumerate(["return a - b  # first", "return a - b", "return a + b  # the fix"]):
        (repo / "calc.py").write_text(f"def add(a, b):\n    {body}\n")
        git("add", "-A", cwd=repo)
        git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", f"commit {n}", cwd=repo)
        commits.append(git("rev-parse", "HEAD", cwd=repo))
        if n == 0:
            git("tag", "v0.1", cwd=repo)
        if n == 1:
            git("-c", "user.name=t", "-c", "user.email=t@t", "tag", "-a", "v0.2", "-m", "release 0.2", cwd=repo)
    git("tag", "v-fix", cwd=repo)
    git("branch", "future", cwd=repo)
    return repo, commits


def test_the_testbed_holds_base_commit_its_ancestors_and_their_tags_only(tmp_path, local_repo, monkeypatch):
    repo, (first, base, fix) = local_repo
    monkeypatch.chdir(tmp_path)  # relative paths, as `results/...` is by default
    source = RepoSource("repos", cache=Path("cache"))
    testbed = tmp_path / "testbed"
    source.export_testbed("acme/calc", base, Path("testbed"))
    assert git("rev-parse", "HEAD", cwd=testbed) == base
    assert git("log", "--all", "--format=%H", cwd=testbed).split() == [base, first]
    assert subprocess.run(["git", "cat-file", "-e", fix], cwd=testbed).returncode != 0
    assert git("tag", cwd=testbed).split() == ["v0.1", "v0.2"]  # v-fix points at the future
    assert git("describe", "--tags", cwd=testbed) == "v0.2"  # what setuptools_scm reads for the version
    assert git("remote", cwd=testbed) == "" and git("branch", "-a", cwd=testbed) == "* main"
    assert git("reflog", cwd=testbed) == "" and not (testbed / ".git" / "FETCH_HEAD").exists()
    assert "return a - b" in (testbed / "calc.py").read_text()


def test_a_missing_commit_or_repository_is_one_sentence(tmp_path, local_repo):
    repo, _ = local_repo
    source = RepoSource(repo.parent, cache=tmp_path / "cache")
    with pytest.raises(UserError, match=f"Instance acme__calc-1 needs commit {'f' * 40}, which {repo} does not hold"):
        source.require_commit("acme/calc", "f" * 40, "acme__calc-1")
    with pytest.raises(UserError, match=r"holds no acme__other.git, acme__other.bundle or acme__other for repository acme/other"):
        source.mirror("acme/other")
    with pytest.raises(UserError, match="Repository folder /no/such/dir does not exist"):
        RepoSource("/no/such/dir")


def test_a_bundle_s_commits_are_found_under_any_ref(tmp_path, local_repo):
    repo, (first, base, fix) = local_repo
    git("update-ref", f"refs/keep/{base}", base, cwd=repo)  # as one makes a bundle of raw commits
    folder = tmp_path / "bundles"
    folder.mkdir()
    git("bundle", "create", str(folder / "acme__calc.bundle"), f"refs/keep/{base}", cwd=repo)
    source = RepoSource(folder, cache=tmp_path / "cache")
    source.require_commit("acme/calc", base, "acme__calc-1")
    source.export_testbed("acme/calc", base, tmp_path / "testbed")
    assert git("log", "--format=%H", cwd=tmp_path / "testbed").split() == [base, first]
    with pytest.raises(UserError, match=f"needs commit {fix}, which {folder / 'acme__calc.bundle'} does not hold"):
        source.require_commit("acme/calc", fix, "acme__calc-1")


@needs_shared
def test_flask_testbed_from_the_bundle_cannot_see_the_fix(tmp_path):
    [instance] = load_instances(str(SHARED / "instances.jsonl"), only=["pallets__flask-4992"])
    source = RepoSource(SHARED, cache=tmp_path / "cache")
    source.require_commit(instance.repo, instance.base_commit, instance.instance_id)
    assert git("cat-file", "-t", FLASK_FIX_4992, cwd=source.mirror(instance.repo)) == "commit"
    testbed = tmp_path / "testbed"
    source.export_testbed(instance.repo, instance.base_commit, testbed)
    assert git("log", "--all", "-1", "--format=%H", cwd=testbed) == instance.base_commit
    assert subprocess.run(["git", "cat-file", "-e", FLASK_FIX_4992], cwd=testbed, capture_output=True).returncode != 0


@needs_shared
def test_requirements_and_eval_script_match_the_by_hand_recipe(tmp_path):
    [instance] = load_instances(str(SHARED / "instances.jsonl"), only=["pallets__flask-4992"])
    by_hand = SHARED / "by_hand_logs" / instance.instance_id
    assert requirements(instance, RepoSource(SHARED, cache=tmp_path / "cache")) + "\n" == (by_hand / "requirements.txt").read_text()
    ours, theirs = eval_script(instance).splitlines(), (by_hand / "eval.sh").read_text().splitlines()
    differing = [(a, b) for a, b in zip(ours, theirs, strict=True) if a != b]
    # swebench 4.1.0's flask spec runs `pytest -rA`; the by-hand recipe took 5.x's longer flags
    assert differing == [("pytest -rA tests/test_config.py", "pytest --no-header -rA --tb=no -p no:cacheprovider tests/test_config.py")]


@needs_shared
@pytest.mark.parametrize("instance_id", ["pallets__flask-4992", "pallets__flask-5063", "pallets__flask-4045"])
def test_swebench_grading_of_the_by_hand_logs_matches_their_verdicts(instance_id):
    [instance] = load_instances(str(SHARED / "instances.jsonl"), only=[instance_id])
    logs = SHARED / "by_hand_logs" / instance_id
    expected = json.loads((logs / "grades.json").read_text())
    for tag, patch in (("a_nopatch", ""), ("b_gold", instance.patch)):
        verdict = grade_log(instance, (logs / f"{tag}.test_output.txt").read_text(), patch)
        want = expected[tag]
        assert verdict.resolved == want["resolved"]
        assert (verdict.f2p_passed, verdict.f2p_failed) == (want["F2P_pass"], len(want["F2P_fail"]))
        assert (verdict.p2p_passed, verdict.p2p_failed) == (want["P2P_pass"], len(want["P2P_fail"]))
        assert verdict.applied and verdict.exit_code is not None


@needs_shared
def test_tasks_lists_an_instance_file_with_the_python_each_gets():
    from test_cli import agentbench

    done = agentbench("tasks", str(SHARED / "instances.jsonl"))
    assert done.returncode == 0, done.stderr
    assert "pallets__flask-4045" in done.stdout and "3.9 (bullseye)" in done.stdout and "3.11 (bookworm)" in done.stdout


def wheel(folder, name, version, requires=()):
    """A minimal wheel of an empty module, for pip offline."""
    info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(f"Requires-Dist: {r}\n" for r in requires)
    with zipfile.ZipFile(folder / f"{name}-{version}-py3-none-any.whl", "w") as whl:
        whl.writestr(f"{name}.py", "")
        whl.writestr(f"{info}/METADATA", metadata)
        whl.writestr(f"{info}/WHEEL", "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n")
        whl.writestr(f"{info}/RECORD", "")


def test_build_requirements_are_installed_but_never_change_installed_packages(tmp_path):
    wheels, project = tmp_path / "wheels", tmp_path / "project"
    wheels.mkdir(), project.mkdir()
    wheel(wheels, "core", "1.0"), wheel(wheels, "core", "2.0"), wheel(wheels, "backend", "1.0")
    wheel(wheels, "pinner", "1.0", ["core==2.0"])  # as oldest-supported-numpy pins an older numpy
    (project / "pyproject.toml").write_text('[build-system]\nrequires = ["pinner", "backend"]\n')
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    python = str(tmp_path / "venv" / "bin" / "python")
    offline = {"PIP_NO_INDEX": "1", "PIP_FIND_LINKS": str(wheels), "PIP_DISABLE_PIP_VERSION_CHECK": "1", "PATH": "/usr/bin:/bin"}
    subprocess.run([python, "-m", "pip", "install", "-q", "core==1.0"], env=offline, check=True)
    done = subprocess.run([python, "-c", BUILD_REQUIRES], cwd=project, env=offline, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "build requirement pinner left out: pip cannot add it without changing installed packages" in done.stdout
    versions = subprocess.run([python, "-m", "pip", "list", "--format=json"], env=offline, capture_output=True, text=True, check=True)
    installed = {p["name"]: p["version"] for p in json.loads(versions.stdout)}
    assert installed["core"] == "1.0" and installed["backend"] == "1.0" and "pinner" not in installed


def test_swebench_is_loaded_only_when_needed_and_leaves_the_root_logger_alone():
    """Its import takes most of a second and configures the root logger at INFO: a command that
    does not grade SWE-bench must not pay for it, and one that does must not print every request."""
    probe = ("import logging, sys; import agentbench.cli, agentbench.swebench.instances; "
             "assert 'swebench' not in sys.modules, 'swebench loaded at start-up'; "
             "import agentbench.swebench.upstream; root = logging.getLogger(); "
             "assert 'swebench' in sys.modules and root.level == logging.WARNING and not root.handlers, (root.level, root.handlers)")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_the_swebench_summary_counts_as_its_harness_does():
    from agentbench.store import AttemptRow, utcnow
    from agentbench.swebench.predictions import swebench_summary

    def row(task, status, patch="diff"):
        return AttemptRow(id=task, run="r", task=task, model="m", agent="external", epoch=0, solved=status == "solved",
                          status=status, stop_reason="submitted", patch=patch, started_at=utcnow())

    summary = swebench_summary([row("d", "unsolved", patch=" \n"), row("a", "solved"), row("c", "error"), row("b", "unsolved"),
                                row("e", "tampered")])
    assert summary == {
        "total_instances": 5, "submitted_instances": 5, "completed_instances": 3, "resolved_instances": 1,
        "unresolved_instances": 2, "empty_patch_instances": 1, "error_instances": 1, "completed_ids": ["a", "b", "e"],
        "incomplete_ids": [], "empty_patch_ids": ["d"], "submitted_ids": ["a", "b", "c", "d", "e"], "resolved_ids": ["a"],
        "unresolved_ids": ["b", "e"], "error_ids": ["c"], "schema_version": 2,
    }


@needs_shared
def test_canaries_are_planted_in_the_test_files_the_eval_runs_and_never_take_a_test_s_name():
    import ast

    from agentbench.swebench.planting import planted_script

    instances = load_instances(str(SHARED / "instances.jsonl")) + load_instances(str(SHARED / "instances-more.jsonl"))
    flask = next(i for i in instances if i.instance_id == "pallets__flask-4045")
    script, planted = planted_script(eval_script(flask), flask)
    assert sorted({p.path for p in planted}) == ["/testbed/tests/test_basic.py", "/testbed/tests/test_blueprints.py"]
    assert [p.must_pass for p in planted] == [True, False, True, False]
    names = {n.split("::")[-1].split("[")[0] for n in flask.FAIL_TO_PASS + flask.PASS_TO_PASS}
    assert not names & {p.name for p in planted}
    before_tests = script.split(">>>>> Start Test Output")[0]
    for p in planted:  # appended to the file after the test patch, before the test command; the script still parses
        assert f"def {p.name}():" in before_tests and f">> '{p.path.removeprefix('/testbed/')}'" in before_tests
    assert subprocess.run(["bash", "-n"], input=script, text=True).returncode == 0
    for p in planted:
        code = before_tests.split(f"def {p.name}():", 1)[1].split("\n\n", 1)[0]
        ast.parse(f"def {p.name}():{code}")
    sympy = next(i for i in instances if i.instance_id.startswith("sympy"))
    assert planted_script(eval_script(sympy), sympy)[1] == ()  # not run by pytest with file paths: nothing planted
