"""What every command shares: the consoles, and flags that take lists."""

from __future__ import annotations

import sys

from rich.console import Console

console = Console(width=None if sys.stdout.isatty() else 150)
err_console = Console(stderr=True)


def split_values(values: list[str] | None) -> list[str]:
    """Repeated flags and comma-separated lists alike: --model a,b --model c."""
    return [item.strip() for value in values or [] for item in value.split(",") if item.strip()]


def print_status(line: str) -> None:
    """A progress line (an image build, a retry), dimmed."""
    console.print(f"[dim]{line}[/]", highlight=False)
