"""Sandbox backends by name. A new backend is one module holding a SandboxFactory (with a
`connect()` that reaches its engine, or says in one sentence why it cannot) and one line here;
tests/test_conformance.py holds every backend to the contract."""

from __future__ import annotations

import importlib

from agentbench.contracts import SandboxFactory
from agentbench.errors import UserError

BACKENDS = {"docker": "agentbench.sandbox.docker:DockerSandboxes"}


def sandbox_factory(name: str = "docker") -> SandboxFactory:
    """The named backend, connected."""
    if name not in BACKENDS:
        raise UserError(f"Unknown sandbox backend {name!r}; known: {', '.join(sorted(BACKENDS))}.")
    module, factory = BACKENDS[name].split(":")
    return getattr(importlib.import_module(module), factory).connect()
