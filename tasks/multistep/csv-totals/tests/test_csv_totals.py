import csv
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest

import report

EXPECTED_ROWS = [
    ["Smith, John", "250.00"],
    ['O\'Brien "The Dealer" Ltd', "100.00"],
    ["Acme Corp", "39.98"],
    ["Initech", "11.01"],
    ["Globex", "4.36"],
    ["Umbrella", "0.00"],
    ["Hooli", "-10.00"],
]

HEADER = "order_id,customer,quantity,unit_price,status\n"


def read_rows(path):
    with open(path, newline="", encoding="utf-8") as fh:
        return list(csv.reader(fh))


def write_orders(path, body):
    path.write_text(HEADER + body, encoding="utf-8")
    return path


def test_load_totals_on_shipped_data():
    totals = report.load_totals("data/orders.csv")
    assert totals == {name: Decimal(total) for name, total in EXPECTED_ROWS}
    for value in totals.values():
        assert isinstance(value, Decimal)
        assert value.as_tuple().exponent == -2


def test_generated_report_file_is_committed():
    path = Path("reports/customer_totals.csv")
    assert path.is_file(), "reports/customer_totals.csv was not generated"
    assert read_rows(path) == [["customer", "total"]] + EXPECTED_ROWS


def test_cli_writes_output_and_creates_directory(tmp_path):
    out = tmp_path / "nested" / "dir" / "totals.csv"
    proc = subprocess.run(
        [sys.executable, "report.py", "data/orders.csv", str(out)],
        capture_output=True, text=True, timeout=30,
    )
    assert proc.returncode == 0, proc.stderr
    assert read_rows(out) == [["customer", "total"]] + EXPECTED_ROWS


def test_half_up_rounding_of_exact_sum(tmp_path):
    src = write_orders(tmp_path / "o.csv", "1,A,1,0.105,paid\n2,B,3,0.335,paid\n3,B,1,1.005,paid\n4,C,1,2.675,paid\n")
    totals = report.load_totals(src)
    assert totals == {"A": Decimal("0.11"), "B": Decimal("2.01"), "C": Decimal("2.68")}


def test_round_once_per_customer_not_per_row(tmp_path):
    src = write_orders(tmp_path / "o.csv", "1,A,1,0.004,paid\n2,A,1,0.004,paid\n3,A,1,0.004,paid\n")
    assert report.load_totals(src) == {"A": Decimal("0.01")}


def test_cancelled_any_case_is_ignored_and_refunds_subtract(tmp_path):
    src = write_orders(
        tmp_path / "o.csv",
        "1,A,2,10.00,paid\n2,A,-1,10.00,refund\n3,A,9,9.99,Cancelled\n4,B,1,5.00,CANCELLED\n5,C,1,1.00,Paid\n",
    )
    assert report.load_totals(src) == {"A": Decimal("10.00"), "C": Decimal("1.00")}


def test_names_are_stripped_and_quoted_fields_parsed(tmp_path):
    src = write_orders(
        tmp_path / "o.csv",
        '1,"Doe, Jane",1,1.00,paid\n2," Doe, Jane ",1,1.00,paid\n3,"  Doe, Jane  ",2,1.50,paid\n'
        '4,"Say ""hi"", Inc",1,3.00,paid\n5, Bob , 2 , 0.50 ,paid\n',
    )
    totals = report.load_totals(src)
    assert totals["Doe, Jane"] == Decimal("5.00")
    assert totals['Say "hi", Inc'] == Decimal("3.00")
    assert totals["Bob"] == Decimal("1.00")


def test_negative_zero_is_normalised(tmp_path):
    src = write_orders(tmp_path / "o.csv", "1,A,1,0.004,paid\n2,A,-1,0.005,refund\n")
    totals = report.load_totals(src)
    assert totals == {"A": Decimal("0.00")}
    out = tmp_path / "r.csv"
    report.write_report(totals, out)
    assert read_rows(out) == [["customer", "total"], ["A", "0.00"]]


def test_write_report_sorting_and_format(tmp_path):
    totals = {
        "beta": Decimal("5.00"),
        "alpha": Decimal("5.00"),
        "gamma, ltd": Decimal("12.50"),
        "delta": Decimal("-3.10"),
        "eps": Decimal("0.00"),
    }
    out = tmp_path / "r.csv"
    report.write_report(totals, out)
    assert read_rows(out) == [
        ["customer", "total"],
        ["gamma, ltd", "12.50"],
        ["alpha", "5.00"],
        ["beta", "5.00"],
        ["eps", "0.00"],
        ["delta", "-3.10"],
    ]


def test_cli_defaults(tmp_path):
    (tmp_path / "data").mkdir()
    write_orders(tmp_path / "data" / "orders.csv", "1,Zed,1,1.00,paid\n")
    script = Path("report.py").resolve()
    proc = subprocess.run([sys.executable, str(script)], cwd=tmp_path, capture_output=True, text=True, timeout=30)
    assert proc.returncode == 0, proc.stderr
    assert read_rows(tmp_path / "reports" / "customer_totals.csv") == [["customer", "total"], ["Zed", "1.00"]]
