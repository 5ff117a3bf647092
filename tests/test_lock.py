"""Lock records: what a run stores about its harness, models, images, suite and settings, and
how `compare` tells the factor under test from everything else that changed."""

import json
import shutil
import subprocess

import pytest
from conftest import FIXTURES, Script
from test_cli import ROOT, agentbench

from agentbench.lock import changed_groups, differences, lock_warnings, scaffold_hash
from agentbench.models.chat_server import ChatServer
from agentbench.models.profiles import ModelProfile, Sampling
from agentbench.runner import Runner
from agentbench.sandbox.docker import DockerSandboxes
from agentbench.spec import RunSpec
from agentbench.store import get_run
from agentbench.tasks import load_suite

TINY = str(FIXTURES / "tiny")


def lock(models=("m",), agents=("fast",), revision="abc", epochs=1, suite="s1"):
    return {
        "harness": {"agentbench": "0.1.0", "revision": revision, "dirty": False,
                    "scaffolds": {agent: f"hash-{agent}" for agent in agents}},
        "models": {model: {"profile": {"model": f"id-{model}", "sampling": {"temperature": 0.0}},
                           "server": {"version": "0.6.3"}} for model in models},
        "images": {"agentbench/python:1": "sha256:1"},
        "suite": {"hash": suite, "tasks": 8},
        "settings": {"epochs": epochs},
    }


def test_differences_are_dotted_paths_including_keys_on_one_side():
    assert differences({"a": {"b": 1, "c": 2}}, {"a": {"b": 1, "c": 3, "d": 4}}) == ["a.c", "a.d"]
    assert differences(lock(), lock()) == []


def test_only_the_compared_configurations_count():
    baseline = lock(models=("m", "other"))
    candidate = lock(models=("m",))
    candidate_other_changed = lock(models=("m", "other"))
    candidate_other_changed["models"]["other"]["profile"]["model"] = "changed"
    assert changed_groups(baseline, candidate, [("m/fast", "m/fast")]) == {}
    assert changed_groups(baseline, candidate_other_changed, [("m/fast", "m/fast")]) == {}


def test_a_model_swap_is_one_factor_and_a_release_another():
    swapped = changed_groups(lock(models=("a",)), lock(models=("b",)), [("a/fast", "b/fast")])
    assert swapped == {"models": ["models.a|b.profile.model"]}
    release = changed_groups(lock(), lock(revision="def"), [("m/fast", "m/fast")])
    assert release == {"harness": ["harness.revision"]}
    assert lock_warnings(release, []) == []


def test_anything_besides_the_factor_is_warned_about():
    changed = changed_groups(lock(), lock(revision="def", epochs=3, suite="s2"), [("m/fast", "m/fast")])
    assert set(changed) == {"harness", "suite", "settings"}
    assert lock_warnings(changed, ["harness"]) == [
        "the runs also differ in settings: settings.epochs", "the runs also differ in suite: suite.hash"]
    assert len(lock_warnings(changed, [])) == 3


def test_scaffold_hashes_differ_by_scaffold_and_are_stable():
    assert scaffold_hash("fast") == scaffold_hash("fast")
    assert len({scaffold_hash(name) for name in ("fast", "deliberate", "minimal")}) == 3


def test_a_task_s_content_hash_follows_its_files(tmp_path):
    suite = tmp_path / "tiny"
    shutil.copytree(FIXTURES / "tiny", suite)
    before = load_suite(str(suite))[0].content_hash
    (suite / "add-numbers" / "tests" / "test_add_numbers.py").write_text("def test_nothing():\n    pass\n")
    after = load_suite(str(suite))[0].content_hash
    assert before != after and len(after) == 16


@pytest.mark.usefixtures("python_image")
def test_a_run_stores_its_lock_record(engine, docker_client):
    with ChatServer(Script([]), model_ids=("scripted",), version="0.6.3-test") as server:
        profile = ModelProfile(name="scripted", provider="vllm", model="scripted", base_url=server.url,
                               sampling={"temperature": 0.7, "top_p": 0.95})
        spec = RunSpec(name="locked", models=["scripted"], agents=["minimal"], suites=[TINY])
        Runner(spec, engine, DockerSandboxes(docker_client), [profile], load_suite(TINY)).run()
        record = json.loads(get_run(engine, "locked").lock_json)
        cooler = profile.model_copy(update={"sampling": Sampling(temperature=0.0)})
        Runner(spec.model_copy(update={"epochs": 2}), engine, DockerSandboxes(docker_client), [cooler], load_suite(TINY)).run()
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "HEAD"], capture_output=True, text=True).stdout.strip()
    assert record["harness"]["revision"] == head and record["harness"]["scaffolds"] == {"minimal": scaffold_hash("minimal")}
    model = record["models"]["scripted"]
    assert model["server"] == {"model": "scripted", "listed": True, "root": None, "max_model_len": None, "version": "0.6.3-test",
                               "streams_usage": True}
    assert model["profile"]["sampling"] == {"temperature": 0.7, "top_p": 0.95} and "name" not in model["profile"]
    [(image, digest)] = record["images"].items()
    assert image.startswith("agentbench/python:") and digest == docker_client.images.get(image).id
    assert record["suite"] == {"hash": record["suite"]["hash"], "tasks": 1} and record["settings"]["epochs"] == 1
    assert json.loads(get_run(engine, "locked").notes_json) == [  # resumed with another sampling and one more epoch
        "resumed under a different lock record: models.scripted.profile.sampling.temperature, "
        "models.scripted.profile.sampling.top_p, settings.epochs"]
    assert json.loads(get_run(engine, "locked").lock_json)["images"] == record["images"]


@pytest.mark.usefixtures("python_image")
def test_compare_names_the_factor_and_warns_about_the_rest(tmp_path):
    edited = tmp_path / "tiny"
    shutil.copytree(FIXTURES / "tiny", edited)
    task = edited / "add-numbers" / "task.yaml"
    task.write_text(task.read_text().replace("make it return", "please make it return"))
    for name, args in (("a", ["--suite", TINY]), ("b", ["--suite", TINY, "--max-steps", "9"]),
                       ("c", ["--suite", str(edited), "--max-steps", "9"])):
        done = agentbench("run", "--model", "oracle", "--run", name, *args)
        assert done.returncode == 0, done.stderr
    one = agentbench("compare", "a", "b")
    assert one.returncode == 3 and "factor under test: settings" in one.stderr and "warning" not in one.stderr  # one task
    two = agentbench("compare", "a", "c", "--factor", "settings")
    assert "warning: the runs also differ in suite: suite.hash" in two.stderr
    assert "factor under test: settings" in two.stderr
    bad = agentbench("compare", "a", "c", "--factor", "weather")
    assert bad.returncode == 2 and "Unknown --factor weather; known: harness, models, images, suite, settings." in bad.stderr
