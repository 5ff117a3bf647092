"""Customer totals report for the monthly close.

Usage:
    python3 report.py [INPUT_CSV] [OUTPUT_CSV]

INPUT_CSV defaults to data/orders.csv and OUTPUT_CSV to reports/customer_totals.csv.
See README.md for the input format and the rules the report must follow.
"""

from __future__ import annotations

import sys
from decimal import Decimal
from pathlib import Path

DEFAULT_INPUT = Path("data/orders.csv")
DEFAULT_OUTPUT = Path("reports/customer_totals.csv")


def load_totals(path: str | Path) -> dict[str, Decimal]:
    """Return {customer: total} for the orders file at `path`, rounded to cents."""
    raise NotImplementedError("TODO: customer totals")


def write_report(totals: dict[str, Decimal], path: str | Path) -> None:
    """Write the totals report CSV to `path`."""
    raise NotImplementedError("TODO: write the report")


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    source = Path(args[0]) if len(args) > 0 else DEFAULT_INPUT
    target = Path(args[1]) if len(args) > 1 else DEFAULT_OUTPUT
    write_report(load_totals(source), target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
