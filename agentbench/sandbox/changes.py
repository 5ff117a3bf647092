"""What an agent changed among its container's tools: the part of the engine's own record of a
container's changes (`docker diff`) that a snapshot carries, so that its verifier can run with
the tools of the untouched image (agentbench.harbor.tools)."""

from __future__ import annotations

CHANGES_LABEL = "agentbench.tool-changes"  # on a snapshot: [kind, path] of the changes below, from `docker diff`
PATH_DIRS = ("/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin")
LIBRARY_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/lib/x86_64-linux-gnu", "/lib/aarch64-linux-gnu",
                "/lib64", "/usr/libexec")
TOOL_DIRS = PATH_DIRS + LIBRARY_DIRS + ("/etc/ld.so.conf.d",)
TOOL_FILES = ("/etc/ld.so.preload", "/etc/ld.so.conf")  # what the dynamic loader reads before any program
MODIFIED, ADDED, DELETED = 0, 1, 2  # the engine's change kinds


def tool_changes(diff: list[dict] | None) -> list[list]:
    """The container's changes (`docker diff`) that touch tools: [kind, path]."""
    return [[change["Kind"], change["Path"]] for change in diff or []
            if change["Path"] in TOOL_FILES or any(change["Path"].startswith(folder + "/") for folder in TOOL_DIRS)]
