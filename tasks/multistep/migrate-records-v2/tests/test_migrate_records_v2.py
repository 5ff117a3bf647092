import copy
import json
from pathlib import Path

import pytest

from records.migrate import main, migrate_file, migrate_record
from records.schema import validate_v2
from records.store import count_by_status, load_records, total_weight_kg

DATA = Path("data")


def cust(first, last):
    return {"first_name": first, "last_name": last}


def dims(length, width, height):
    return {"length": length, "width": width, "height": height}


def v2(id, customer, weight_kg, dimensions_cm, status, created_at, tags, carrier):
    return {
        "id": id,
        "customer": customer,
        "weight_kg": weight_kg,
        "dimensions_cm": dimensions_cm,
        "status": status,
        "created_at": created_at,
        "tags": tags,
        "carrier": carrier,
    }


EXPECTED_FILES = {
    "shipments_2022.json": [
        v2("S-0901", cust("Ada", "Lovelace"), 5.67, dims(30, 20, 10), "DELIVERED", "2022-11-02T00:00:00Z", ["fragile", "priority"], "DHL"),
        v2("S-0902", cust("Charles", "Babbage"), 1.361, dims(15, 15, 15), "RETURNED", "2022-12-24T00:00:00Z", [], "UPS"),
    ],
    "shipments_2023.json": [
        v2("S-1001", cust("Grace", "Brewster Murray Hopper"), 0.34, dims(40, 30, 5), "IN_TRANSIT", "2023-03-15T00:00:00Z", ["priority", "gift"], "unassigned"),
        v2("S-1002", cust("Plato", ""), None, dims(10, 10, 2), "DELIVERED", "2023-07-01T00:00:00Z", ["documents"], "unassigned"),
        v2("S-1003", cust("Alan", "Turing"), 20.003, None, "IN_TRANSIT", "2023-09-30T00:00:00Z", [], "FedEx"),
    ],
    "shipments_2024.json": [
        v2("S-1101", cust("Katherine", "Johnson"), None, None, "PENDING", "2024-01-08T00:00:00Z", [], "unassigned"),
        v2("S-1102", cust("Edsger", "W. Dijkstra"), 45.359, dims(120, 80, 60), "PENDING", "2024-02-29T00:00:00Z", ["bulky"], "DB Schenker"),
        v2("S-1103", cust("Barbara", "Liskov"), 0.998, dims(25, 18, 4), "DELIVERED", "2024-04-11T00:00:00Z", ["fragile"], "DHL"),
    ],
}

FULL_V1 = {
    "id": "S-7",
    "customer": "Ada Lovelace",
    "weight_lb": 10,
    "dims": "30x20x10",
    "status": "shipped",
    "created": "2023-11-02",
    "tags": "fragile, priority",
    "carrier": "DHL",
}


# --- migrate_record ---------------------------------------------------------------


def test_full_record():
    assert migrate_record(FULL_V1) == v2(
        "S-7", cust("Ada", "Lovelace"), 4.536, dims(30, 20, 10), "IN_TRANSIT", "2023-11-02T00:00:00Z", ["fragile", "priority"], "DHL"
    )


def test_input_is_not_modified():
    original = copy.deepcopy(FULL_V1)
    migrate_record(FULL_V1)
    assert FULL_V1 == original


def test_minimal_record_gets_defaults():
    assert migrate_record({"id": "S-8", "customer": "Plato", "created": "2020-02-29"}) == v2(
        "S-8", cust("Plato", ""), None, None, "PENDING", "2020-02-29T00:00:00Z", [], "unassigned"
    )


@pytest.mark.parametrize(
    "name, first, last",
    [
        ("Grace Hopper", "Grace", "Hopper"),
        ("  Grace   Brewster Hopper  ", "Grace", "Brewster Hopper"),
        ("Cher", "Cher", ""),
        ("Jean-Luc\tPicard", "Jean-Luc", "Picard"),
    ],
)
def test_customer_split(name, first, last):
    rec = migrate_record({"id": "x", "customer": name, "created": "2024-01-01"})
    assert rec["customer"] == cust(first, last)


@pytest.mark.parametrize("lb, kg", [(1, 0.454), (2.2, 0.998), (0, 0.0), (12.5, 5.67), (1000, 453.592)])
def test_pounds_to_kilograms(lb, kg):
    rec = migrate_record({"id": "x", "customer": "A B", "created": "2024-01-01", "weight_lb": lb})
    assert rec["weight_kg"] == kg


def test_null_weight_stays_null():
    rec = migrate_record({"id": "x", "customer": "A B", "created": "2024-01-01", "weight_lb": None})
    assert rec["weight_kg"] is None


@pytest.mark.parametrize(
    "raw, expected",
    [("1x2x3", dims(1, 2, 3)), ("40 x 30 x 5", dims(40, 30, 5)), ("10X10X2", dims(10, 10, 2)), ("", None)],
)
def test_dimensions(raw, expected):
    rec = migrate_record({"id": "x", "customer": "A B", "created": "2024-01-01", "dims": raw})
    assert rec["dimensions_cm"] == expected


@pytest.mark.parametrize(
    "old, new", [("new", "PENDING"), ("shipped", "IN_TRANSIT"), ("delivered", "DELIVERED"), ("returned", "RETURNED")]
)
def test_status_mapping(old, new):
    rec = migrate_record({"id": "x", "customer": "A B", "created": "2024-01-01", "status": old})
    assert rec["status"] == new


def test_unknown_status_is_an_error():
    with pytest.raises(ValueError):
        migrate_record({"id": "x", "customer": "A B", "created": "2024-01-01", "status": "lost"})


@pytest.mark.parametrize(
    "raw, expected",
    [
        ("a,b", ["a", "b"]),
        (" Priority , gift,,priority", ["priority", "gift"]),
        ("", []),
        (" , ", []),
        ("BULKY", ["bulky"]),
    ],
)
def test_tags(raw, expected):
    rec = migrate_record({"id": "x", "customer": "A B", "created": "2024-01-01", "tags": raw})
    assert rec["tags"] == expected


def test_empty_carrier_is_defaulted():
    rec = migrate_record({"id": "x", "customer": "A B", "created": "2024-01-01", "carrier": ""})
    assert rec["carrier"] == "unassigned"


def test_output_passes_v2_validation():
    assert validate_v2(migrate_record(FULL_V1)) == []


# --- migrate_file / CLI -------------------------------------------------------------


def write(path, doc):
    path.write_text(json.dumps(doc), encoding="utf-8")


def test_migrate_file_in_place(tmp_path):
    path = tmp_path / "s.json"
    write(path, {"schema_version": 1, "records": [FULL_V1, {"id": "S-9", "customer": "Plato", "created": "2021-05-05"}]})
    assert migrate_file(path) is True
    doc = json.loads(path.read_text(encoding="utf-8"))
    assert doc == {"schema_version": 2, "records": [migrate_record(FULL_V1), migrate_record({"id": "S-9", "customer": "Plato", "created": "2021-05-05"})]}
    assert [r["id"] for r in doc["records"]] == ["S-7", "S-9"]


def test_migrate_file_leaves_v2_untouched(tmp_path):
    path = tmp_path / "s.json"
    text = json.dumps({"schema_version": 2, "records": [migrate_record(FULL_V1)]}, indent=4)
    path.write_text(text, encoding="utf-8")
    assert migrate_file(path) is False
    assert path.read_text(encoding="utf-8") == text


def test_migrate_file_rejects_unknown_version(tmp_path):
    path = tmp_path / "s.json"
    write(path, {"schema_version": 3, "records": []})
    with pytest.raises(ValueError):
        migrate_file(path)


def test_cli_migrates_directory_and_is_idempotent(tmp_path):
    write(tmp_path / "a.json", {"schema_version": 1, "records": [FULL_V1]})
    write(tmp_path / "b.json", {"schema_version": 2, "records": [migrate_record(FULL_V1)]})
    assert main([str(tmp_path)]) == 0
    assert main([str(tmp_path)]) == 0
    for name in ("a.json", "b.json"):
        assert json.loads((tmp_path / name).read_text(encoding="utf-8")) == {"schema_version": 2, "records": [migrate_record(FULL_V1)]}


# --- the project's own data files ---------------------------------------------------


def test_data_files_are_still_the_same_files():
    assert sorted(p.name for p in DATA.glob("*.json")) == sorted(EXPECTED_FILES)


@pytest.mark.parametrize("name", sorted(EXPECTED_FILES))
def test_data_file_migrated_in_place(name):
    doc = json.loads((DATA / name).read_text(encoding="utf-8"))
    assert doc["schema_version"] == 2
    assert doc["records"] == EXPECTED_FILES[name]
    assert all(validate_v2(r) == [] for r in doc["records"])


def test_application_can_load_the_data():
    records = load_records(DATA)
    assert [r["id"] for r in records] == ["S-0901", "S-0902", "S-1001", "S-1002", "S-1003", "S-1101", "S-1102", "S-1103"]
    assert total_weight_kg(records) == 73.731
    assert count_by_status(records) == {"DELIVERED": 3, "RETURNED": 1, "IN_TRANSIT": 2, "PENDING": 2}
