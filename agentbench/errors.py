"""Errors a user can cause, each carrying one sentence that names what to fix."""

from pydantic import ValidationError


class UserError(Exception):
    """A mistake in the user's input or environment; the message says what to fix."""


def field_problem(exc: ValidationError) -> str:
    """The first validation problem as 'field `x.y` is required' (or what is wrong with it)."""
    error = exc.errors()[0]
    field = ".".join(str(part) for part in error["loc"]) or "(top level)"
    problem = "is required" if error["type"] == "missing" else error["msg"].lower()
    return f"field `{field}` {problem}"
