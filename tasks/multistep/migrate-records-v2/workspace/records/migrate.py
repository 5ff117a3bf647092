"""Migrate shipment data files from schema v1 to schema v2 (ticket DATA-311).

Usage: python3 -m records.migrate [DIR]     (DIR defaults to "data")
"""

from __future__ import annotations

import sys
from pathlib import Path


def migrate_record(record: dict) -> dict:
    """Return the v2 form of one v1 record (the input is not modified)."""
    raise NotImplementedError("DATA-311")


def migrate_file(path: str | Path) -> bool:
    """Migrate one data file in place; True if it was rewritten."""
    raise NotImplementedError("DATA-311")


def main(argv: list[str] | None = None) -> int:
    raise NotImplementedError("DATA-311")


if __name__ == "__main__":
    sys.exit(main())
