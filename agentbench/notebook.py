"""Attempts as a pandas DataFrame, for notebooks: `agentbench.load("run-name")`."""

from __future__ import annotations

from agentbench.errors import UserError
from agentbench.report import attempt_record
from agentbench.store import get_run, run_attempts
from agentbench.store_open import open_store


def load(run: str | None = None, db: str | None = None):
    """One row per attempt of `run` (the latest by default) from the store (AGENTBENCH_DB or `db`)."""
    try:
        import pandas
    except ImportError:
        raise UserError("agentbench.load needs pandas: pip install 'agentbench[notebook]'.") from None
    engine = open_store(db)
    name = get_run(engine, run).name
    return pandas.DataFrame([{"run": name, **attempt_record(row)} for row in run_attempts(engine, name)])
