"""Sandboxes: isolated places where agents run commands and graders run checks."""

from agentbench.sandbox.base import ContainerExited, DiskQuotaExceeded, ExecResult, Sandbox, SandboxError, SandboxFactory, SandboxLimits

__all__ = ["ContainerExited", "DiskQuotaExceeded", "ExecResult", "Sandbox", "SandboxError", "SandboxFactory", "SandboxLimits"]
