"""Sandboxes: isolated places where agents run commands and graders run checks."""

from agentbench.sandbox.base import DiskQuotaExceeded, ExecResult, Sandbox, SandboxError, SandboxLimits

__all__ = ["DiskQuotaExceeded", "ExecResult", "Sandbox", "SandboxError", "SandboxLimits"]
