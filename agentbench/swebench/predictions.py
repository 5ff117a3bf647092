"""SWE-bench predictions files (instance_id, model_name_or_path, model_patch), the official
harness's interchange format: written from a run, and read and graded here to put patches
made elsewhere beside agentbench's runs."""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Callable

from agentbench.contracts import SandboxFactory
from agentbench.errors import UserError
from agentbench.grading import graded_status, test_columns
from agentbench.recorder import RunRecorder
from agentbench.spec import RunSpec
from agentbench.store import AttemptRow, attempt_id, utcnow
from agentbench.swebench.grading import grade_instance
from agentbench.swebench.images import SwebenchImages
from agentbench.swebench.instances import Instance

FIELDS = ("instance_id", "model_name_or_path", "model_patch")


def run_predictions(rows: list[AttemptRow], model: str | None = None, agent: str | None = None, epoch: int = 0) -> list[dict]:
    """One prediction per instance of one (model, agent) configuration and epoch of a run; the
    patch is the agent's whole diff, model_name_or_path is `model/agent`."""
    chosen = [r for r in rows if r.epoch == epoch and model in (None, r.model) and agent in (None, r.agent)]
    configs = sorted({f"{r.model}/{r.agent}" for r in chosen})
    if len(configs) > 1:
        raise UserError(f"The run holds {len(configs)} configurations ({', '.join(configs)}); pick one with --model and --agent.")
    if not chosen:
        raise UserError(f"The run has no attempt of epoch {epoch} for that model and agent.")
    return [{"instance_id": r.task, "model_name_or_path": f"{r.model}/{r.agent}", "model_patch": r.patch} for r in chosen]


def write_predictions(predictions: list[dict], path: Path) -> None:
    path.write_text("".join(json.dumps(p) + "\n" for p in predictions))


def load_predictions(path: Path) -> list[dict]:
    """Predictions from a .jsonl file (or a .json list), each checked for the three fields."""
    if not path.is_file():
        raise UserError(f"Predictions file {path} does not exist.")
    text = path.read_text()
    try:
        records = json.loads(text) if path.suffix == ".json" else [json.loads(line) for line in text.splitlines() if line.strip()]
    except json.JSONDecodeError as exc:
        raise UserError(f"{path} is not valid JSON ({exc}).") from None
    if isinstance(records, dict):  # the official harness also accepts {instance_id: prediction}
        records = list(records.values())
    seen = set()
    for number, record in enumerate(records, start=1):
        missing = [field for field in FIELDS if not isinstance(record, dict) or field not in record]
        if missing:
            raise UserError(f"{path}: prediction {number} lacks {', '.join(missing)}.")
        if record["instance_id"] in seen:
            raise UserError(f"{path}: instance {record['instance_id']} has two predictions.")
        seen.add(record["instance_id"])
        record["model_patch"] = record["model_patch"] or ""
    return records


def grade_predictions(recorder: RunRecorder, sandboxes: SandboxFactory, images: SwebenchImages, instances: list[Instance],
                      predictions: list[dict], suite: str, workers: int,
                      on_graded: Callable[[AttemptRow], None] = lambda row: None) -> None:
    """Grade predictions made elsewhere exactly as attempts are graded, and store them as the
    recorder's run (agent `external`), so that reports and compare put them beside agentbench runs."""
    by_id = {instance.instance_id: instance for instance in instances}
    unknown = [p["instance_id"] for p in predictions if p["instance_id"] not in by_id]
    if unknown:
        raise UserError(f"{suite} has no instance {', '.join(unknown[:5])}{' ...' if len(unknown) > 5 else ''}; "
                        "grade predictions against the suite they were made for.")
    models = sorted({p["model_name_or_path"] for p in predictions})
    for prediction in predictions:
        images.check(by_id[prediction["instance_id"]])
    run = recorder.run
    recorder.start(RunSpec(name=run, models=models, agents=["external"], suites=[suite]).model_dump_json(), new_only=True)

    def grade_one(prediction: dict) -> None:
        instance, started_at = by_id[prediction["instance_id"]], utcnow()
        verdict = grade_instance(sandboxes, images.instance(instance), instance, prediction["model_patch"], {"agentbench.run": run})
        on_graded(recorder.add_attempt(AttemptRow(
            id=attempt_id(run, instance.instance_id, prediction["model_name_or_path"], "external", 0), run=run,
            task=instance.instance_id, model=prediction["model_name_or_path"], agent="external", epoch=0,
            solved=verdict.solved, status=graded_status(verdict), stop_reason="submitted",
            grade_status=verdict.status, grade_s=verdict.duration_s, patch=prediction["model_patch"],
            check_output=verdict.output, started_at=started_at, **test_columns(verdict.tests),
        )))

    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(grade_one, predictions))
    recorder.finish("completed")


def swebench_summary(rows: list[AttemptRow]) -> dict:
    """The graded attempts of one model as swebench's harness summarises a run (its report
    schema 2): empty patches are not run, errors are instances that produced no verdict."""
    empty = sorted(r.task for r in rows if not r.patch.strip())
    errors = sorted(r.task for r in rows if r.patch.strip() and r.status == "error")
    completed = [r for r in rows if r.patch.strip() and r.status != "error"]
    resolved = sorted(r.task for r in completed if r.solved)
    unresolved = sorted(r.task for r in completed if not r.solved)
    submitted = sorted(r.task for r in rows)
    return {
        "total_instances": len(submitted), "submitted_instances": len(submitted), "completed_instances": len(completed),
        "resolved_instances": len(resolved), "unresolved_instances": len(unresolved), "empty_patch_instances": len(empty),
        "error_instances": len(errors), "completed_ids": sorted(r.task for r in completed), "incomplete_ids": [],
        "empty_patch_ids": empty, "submitted_ids": submitted, "resolved_ids": resolved, "unresolved_ids": unresolved,
        "error_ids": errors, "schema_version": 2,
    }


def write_summaries(rows: list[AttemptRow], folder: Path, run: str) -> list[Path]:
    """One summary per model, named as swebench names its reports (`model.run_id.json`)."""
    written = []
    for model in sorted({r.model for r in rows}):
        path = folder / f"{model.replace('/', '__')}.{run}.json"
        path.write_text(json.dumps(swebench_summary([r for r in rows if r.model == model]), indent=2) + "\n")
        written.append(path)
    return written
