"""File-system helpers."""

from __future__ import annotations

import os
from pathlib import Path


def expand_path(value: str | os.PathLike, base: Path | None = None) -> Path:
    """Expand ~ and environment variables; resolve relative paths against `base`."""
    path = Path(os.path.expandvars(os.path.expanduser(str(value))))
    if not path.is_absolute() and base is not None:
        path = base / path
    return path
