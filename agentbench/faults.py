"""The faults a long run meets outside the user's input (the Docker engine, the store's
database, the results disk going away), each told as one sentence instead of a traceback."""

from __future__ import annotations

import errno


def fault_sentence(exc: BaseException) -> str | None:
    """What went wrong, in words a user can act on; None for anything not known as such a fault."""
    chain = []
    while exc is not None and exc not in chain:
        chain.append(exc)
        exc = exc.__cause__ or exc.__context__
    for fault in chain:
        text = f"{type(fault).__module__}.{type(fault).__name__}: {fault}".lower()
        if isinstance(fault, OSError) and fault.errno == errno.ENOSPC or "disk is full" in text or "no space left" in text:
            return "the results disk is full (the store could not write); free some space"
        if text.startswith(("docker.", "requests.", "urllib3.")) and ("connection" in text or "connectionerror" in text):
            return ("the Docker engine stopped answering; start it again (`bash sandboxes/ensure-docker.sh`, or your "
                    "system's service)")
        if text.startswith(("psycopg", "sqlalchemy.exc.operationalerror")) and ("server" in text or "connection" in text):
            return "the store's database server went away (the connection to it failed); start it again"
    return None
