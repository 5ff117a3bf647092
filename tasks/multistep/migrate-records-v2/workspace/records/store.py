"""Loading shipment data files. The application only understands schema v2."""

from __future__ import annotations

import json
from pathlib import Path

from records.schema import CURRENT_VERSION


def load_records(directory: str | Path = "data") -> list[dict]:
    """All records of every *.json file in `directory`, files in name order."""
    records: list[dict] = []
    for path in sorted(Path(directory).glob("*.json")):
        doc = json.loads(path.read_text(encoding="utf-8"))
        version = doc.get("schema_version")
        if version != CURRENT_VERSION:
            raise ValueError(f"{path}: schema_version {version!r}, expected {CURRENT_VERSION}; run the migration")
        records.extend(doc["records"])
    return records


def total_weight_kg(records: list[dict]) -> float:
    """Total known weight; records without a weight are skipped."""
    return round(sum(r["weight_kg"] for r in records if r["weight_kg"] is not None), 3)


def count_by_status(records: list[dict]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for record in records:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    return counts
