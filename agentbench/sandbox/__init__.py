"""Sandboxes: isolated places where agents run commands and graders run checks."""

from agentbench.sandbox.base import ExecResult, Sandbox, SandboxError, SandboxLimits

__all__ = ["ExecResult", "Sandbox", "SandboxError", "SandboxLimits"]
