"""agentbench: which agent configuration solves the most real tasks per dollar and per hour."""

__version__ = "0.1.0"


def load(run: str | None = None, db: str | None = None):
    """One row per attempt of a run as a pandas DataFrame (see agentbench.notebook)."""
    from agentbench.notebook import load as load_attempts

    return load_attempts(run, db)
