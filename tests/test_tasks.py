"""Task loading: the shipped suite is well-formed; bad task folders get one clear sentence."""

import shutil

import pytest
from conftest import FIXTURES

from agentbench.contracts import SandboxError
from agentbench.errors import UserError
from agentbench.grading import validate_task
from agentbench.tasks import load_suite


def test_shipped_multistep_suite_has_ten_mixed_tasks():
    tasks = load_suite("multistep")
    assert len(tasks) >= 10
    assert len({t.id for t in tasks}) == len(tasks)
    hard = [t for t in tasks if "hard" in t.spec.tags]
    assert len(hard) >= 3
    for task in tasks:
        assert task.id.startswith("multistep/")
        assert task.solution_patch.startswith("diff --git"), task.id
        assert any(task.tests_dir.rglob("test_*.py")), task.id


def test_hidden_tests_are_not_in_the_workspace():
    for task in load_suite("multistep"):
        hidden = {p.name for p in task.tests_dir.rglob("*.py")}
        visible = {p.name for p in task.workspace_dir.rglob("*.py")}
        assert not hidden & visible, task.id


def test_task_filter_and_unknown_task():
    assert [t.id for t in load_suite(str(FIXTURES / "tiny"), ["add-numbers"])] == ["tiny/add-numbers"]
    with pytest.raises(UserError, match="has no task nope"):
        load_suite(str(FIXTURES / "tiny"), ["nope"])


def _copy_fixture(tmp_path):
    suite = tmp_path / "suite"
    shutil.copytree(FIXTURES / "tiny", suite)
    return suite, suite / "add-numbers" / "task.yaml"


def test_missing_check_names_file_and_field(tmp_path):
    suite, yaml_path = _copy_fixture(tmp_path)
    yaml_path.write_text("\n".join(l for l in yaml_path.read_text().splitlines() if not l.startswith("check:")))
    with pytest.raises(UserError) as caught:
        load_suite(str(suite))
    assert str(caught.value) == f"{yaml_path}: field `check` is required."


def test_unknown_field_is_an_error_not_a_silent_default(tmp_path):
    suite, yaml_path = _copy_fixture(tmp_path)
    yaml_path.write_text(yaml_path.read_text() + "timeout: 5\n")
    with pytest.raises(UserError, match=r"field `timeout` extra inputs are not permitted"):
        load_suite(str(suite))


def test_bad_yaml_and_missing_workspace(tmp_path):
    suite, yaml_path = _copy_fixture(tmp_path)
    text = yaml_path.read_text()
    yaml_path.write_text("prompt: [unclosed\n")
    with pytest.raises(UserError, match="is not valid YAML"):
        load_suite(str(suite))
    yaml_path.write_text(text)
    shutil.rmtree(suite / "add-numbers" / "workspace")
    with pytest.raises(UserError, match="field `workspace` names .* which is not a folder"):
        load_suite(str(suite))


def test_suite_that_does_not_exist():
    with pytest.raises(UserError, match=r"Suite 'no-such-suite' is neither a folder nor a suite under .* \(known: .*multistep"):
        load_suite("no-such-suite")


class FailingSandboxes:
    """A sandbox backend whose engine fails without a word."""

    def start(self, image, labels, network=False, workdir="/workspace", sealed=None):
        raise SandboxError("")


def test_validation_names_the_task_when_its_sandbox_fails():
    [task] = load_suite(str(FIXTURES / "tiny"))
    checked = validate_task(FailingSandboxes(), "agentbench/python:any", task)
    assert (checked.task, checked.problem) == ("tiny/add-numbers", "it could not be checked: the sandbox or grader failed (SandboxError)")


@pytest.mark.parametrize("field, value, why", [
    ("workspace", "../..", "outside its task folder"),
    ("workspace", "/etc", "outside its task folder"),
    ("tests", "..", "outside its task folder"),
    ("solution", "../../other/solution.patch", "outside its task folder"),
    ("workspace", ".", "would show the agent the task's hidden tests"),
])
def test_task_paths_that_reach_outside_or_show_the_hidden_files_are_refused(tmp_path, field, value, why):
    suite, yaml_path = _copy_fixture(tmp_path)
    lines = [line for line in yaml_path.read_text().splitlines() if not line.startswith(f"{field}:")]
    yaml_path.write_text("\n".join(lines + [f"{field}: {value!r}"]) + "\n")
    with pytest.raises(UserError, match=why) as caught:
        load_suite(str(suite))
    assert str(yaml_path) in str(caught.value) and f"field `{field}`" in str(caught.value)


def test_a_workspace_symlinked_to_a_neighbour_s_hidden_tests_is_refused(tmp_path):
    suite, yaml_path = _copy_fixture(tmp_path)
    neighbour = suite / "neighbour"
    shutil.copytree(suite / "add-numbers", neighbour)
    (suite / "add-numbers" / "peek").symlink_to(neighbour / "tests")
    yaml_path.write_text(yaml_path.read_text().replace("workspace: workspace", "") + "workspace: peek\n")
    with pytest.raises(UserError, match="outside its task folder"):
        load_suite(str(suite))


def test_a_task_folder_whose_name_is_not_safe_is_refused(tmp_path):
    suite, _ = _copy_fixture(tmp_path)
    (suite / "add-numbers").rename(suite / "add numbers'")
    with pytest.raises(UserError, match="task folder name \"add numbers'\" is not a safe name"):
        load_suite(str(suite))


def test_instance_ids_and_run_names_outside_the_safe_alphabet_are_refused(tmp_path):
    import json

    from agentbench.spec import RunSpec
    from agentbench.swebench.instances import load_instances

    record = {"repo": "o/r", "base_commit": "abc", "patch": "", "test_patch": "", "problem_statement": "p", "hints_text": "",
              "created_at": "2024-01-01", "version": "1.0", "FAIL_TO_PASS": "[]", "PASS_TO_PASS": "[]",
              "environment_setup_commit": "abc"}
    path = tmp_path / "hostile.jsonl"
    path.write_text(json.dumps({**record, "instance_id": "../../../tmp/x"}) + "\n")
    with pytest.raises(UserError, match="instance_id"):
        load_instances(str(path))
    for name in ("../../x", "a/b", ".hidden", "x y"):
        with pytest.raises(ValueError, match="run name"):
            RunSpec(name=name, models=["oracle"])
    assert RunSpec(name="nightly-1.4.0+rc1", models=["oracle"]).name == "nightly-1.4.0+rc1"
