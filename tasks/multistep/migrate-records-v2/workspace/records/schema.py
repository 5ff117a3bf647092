"""Shipment record schemas.

A data file is a JSON object: {"schema_version": N, "records": [...]}.

Schema v1 (legacy, written by the old PHP exporter):
    id         str, e.g. "S-1001"
    customer   str, full name, e.g. "Ada Lovelace"
    weight_lb  number in pounds, optional (may be missing or null)
    dims       str "LxWxH" in centimetres, e.g. "30x20x10", optional
    status     str: "new" | "shipped" | "delivered" | "returned", optional
    created    str date "YYYY-MM-DD"
    tags       str, comma-separated, e.g. "fragile, priority", optional
    carrier    str, optional

Schema v2 (what the application reads now): see V2_KEYS and validate_v2.
"""

from __future__ import annotations

import re

CURRENT_VERSION = 2

V2_KEYS = ("id", "customer", "weight_kg", "dimensions_cm", "status", "created_at", "tags", "carrier")
V2_STATUSES = ("PENDING", "IN_TRANSIT", "DELIVERED", "RETURNED")
_CREATED_AT = re.compile(r"\d{4}-\d{2}-\d{2}T00:00:00Z")


def validate_v2(record: dict) -> list[str]:
    """Problems with a v2 record; an empty list means it is valid."""
    problems = []
    if set(record) != set(V2_KEYS):
        problems.append(f"keys {sorted(record)} != {sorted(V2_KEYS)}")
        return problems
    customer = record["customer"]
    if not (isinstance(customer, dict) and set(customer) == {"first_name", "last_name"}):
        problems.append("customer must be {first_name, last_name}")
    if record["weight_kg"] is not None and not isinstance(record["weight_kg"], (int, float)):
        problems.append("weight_kg must be a number or null")
    dims = record["dimensions_cm"]
    if dims is not None and not (
        isinstance(dims, dict)
        and set(dims) == {"length", "width", "height"}
        and all(isinstance(v, int) for v in dims.values())
    ):
        problems.append("dimensions_cm must be {length, width, height} integers or null")
    if record["status"] not in V2_STATUSES:
        problems.append(f"bad status {record['status']!r}")
    if not (isinstance(record["created_at"], str) and _CREATED_AT.fullmatch(record["created_at"])):
        problems.append("created_at must look like 2024-01-31T00:00:00Z")
    if not (isinstance(record["tags"], list) and all(isinstance(t, str) for t in record["tags"])):
        problems.append("tags must be a list of strings")
    if not (isinstance(record["carrier"], str) and record["carrier"]):
        problems.append("carrier must be a non-empty string")
    return problems
