"""SWE-bench instance records: loaded from a .json/.jsonl file or a dataset, validated, filtered."""

from __future__ import annotations

import json
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from agentbench.confinement import checked_name
from agentbench.errors import UserError, field_problem

DATASET_PREFIX = "swebench:"


class Instance(BaseModel):
    """One SWE-bench record: the 12 classic fields, and the newer shape's optional four."""

    model_config = ConfigDict(extra="ignore")

    repo: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    instance_id: str
    base_commit: str
    patch: str
    test_patch: str
    problem_statement: str
    hints_text: str
    created_at: str
    version: str
    FAIL_TO_PASS: list[str]
    PASS_TO_PASS: list[str]
    environment_setup_commit: str
    image: str | None = None
    eval_script: str | None = None
    log_parser: str | None = None
    eval_type: str | None = None

    # an id used in image tags, file names and URLs must mean the same in each
    _safe_id = field_validator("instance_id")(lambda cls, value: checked_name(value, "instance id"))

    @field_validator("FAIL_TO_PASS", "PASS_TO_PASS", mode="before")
    @classmethod
    def _json_list(cls, value):
        """The dataset stores the test lists as JSON strings; files may hold lists."""
        return json.loads(value) if isinstance(value, str) else value

    @field_validator("version", mode="before")
    @classmethod
    def _version_text(cls, value):
        return str(value) if isinstance(value, (int, float)) else value

    @property
    def repo_key(self) -> str:
        """owner__name, as SWE-bench names repositories on disk."""
        return self.repo.replace("/", "__")


def is_instance_suite(suite: str) -> bool:
    """A suite given as an instance file or a dataset name rather than a task folder."""
    return suite.startswith(DATASET_PREFIX) or suite.endswith((".json", ".jsonl"))


def load_instances(suite: str, only: list[str] | None = None) -> list[Instance]:
    """The records of a file or dataset, validated, in file order; `only` keeps those ids."""
    raw = _dataset_records(suite.removeprefix(DATASET_PREFIX)) if suite.startswith(DATASET_PREFIX) else _file_records(Path(suite))
    instances, seen = [], set()
    for number, record in enumerate(raw, start=1):
        name = record.get("instance_id", f"record {number}") if isinstance(record, dict) else f"record {number}"
        try:
            instance = Instance.model_validate(record)
        except ValidationError as exc:
            raise UserError(f"{suite}: instance {name}, {field_problem(exc)}.") from None
        if instance.instance_id in seen:
            raise UserError(f"{suite}: instance id {instance.instance_id} appears twice.")
        seen.add(instance.instance_id)
        instances.append(instance)
    if only:
        missing = [i for i in only if i not in seen]
        if missing:
            raise UserError(f"{suite} has no instance {', '.join(missing)}; it holds {len(instances)} instances (see `agentbench tasks {suite}`).")
        instances = [i for i in instances if i.instance_id in only]
    return instances


def _file_records(path: Path) -> list:
    if not path.is_file():
        raise UserError(f"SWE-bench instance file {path} does not exist.")
    text = path.read_text()
    if path.suffix == ".json":
        try:
            records = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UserError(f"{path} is not valid JSON: {exc}.") from None
        if not isinstance(records, list):
            raise UserError(f"{path} must hold a JSON array of instance records.")
        return records
    records = []
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip():
            try:
                records.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise UserError(f"{path}, line {number}, is not valid JSON: {exc}.") from None
    return records


def _dataset_records(name: str) -> list:
    """A dataset's test split through `datasets`, where a hub answers."""
    try:
        import datasets
    except ImportError:
        raise UserError(f"Loading the dataset {name} needs the `datasets` package; or pass a .json/.jsonl instance file.") from None
    try:
        return list(datasets.load_dataset(name, split="test"))
    except Exception as exc:  # the hub's errors vary by version; all mean "not loadable here"
        raise UserError(f"Dataset {name} could not be loaded ({exc.__class__.__name__}); with no hub, pass a .json/.jsonl instance file.") from None
