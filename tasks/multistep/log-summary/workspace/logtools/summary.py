"""Aggregate an access log into a JSON report (ticket LOG-42).

Usage: python3 -m logtools.summary LOGFILE [--top N] [--output FILE]
"""

from __future__ import annotations

import sys
from typing import Iterable


def summarize(lines: Iterable[str], top: int = 5) -> dict:
    raise NotImplementedError("LOG-42")


def main(argv: list[str] | None = None) -> int:
    raise NotImplementedError("LOG-42")


if __name__ == "__main__":
    sys.exit(main())
