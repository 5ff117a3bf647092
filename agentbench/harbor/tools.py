"""The verifier runs with the tools of the task's untouched image, not the agent's.

A snapshot keeps everything the agent's container holds, so a wrapper the agent put in place of
`grep`, `stat` or `getent` (one that writes a reward as a side effect) would run inside the
verifier. Before the verifier starts, every executable, shared library and loader setting the
task's image has, which the agent changed or deleted, is put back from that image (the engine's
own record of the container's changes says which), and files the agent added on PATH under a
name the image already has there (a shadowing wrapper), or a loader setting such as
/etc/ld.so.preload the image lacks, are removed. Tools the agent installed
under new names stay: they may be what the task asked for.
"""

from __future__ import annotations

import io
import json
import posixpath
import shlex
import tarfile
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from agentbench.sandbox.changes import ADDED, CHANGES_LABEL, DELETED, MODIFIED, PATH_DIRS, TOOL_FILES

@dataclass(frozen=True)
class Restoration:
    """What to do to a snapshot's container before its verifier runs."""

    restored: tuple[str, ...] = ()  # files copied back from the task's image (under `folder`)
    removed: tuple[str, ...] = ()  # files the agent added that shadow a tool of the image or preload a library

    def script(self) -> str:
        """The shell line that removes the shadowing files (after the restored tools are in place)."""
        return f"rm -f -- {' '.join(shlex.quote(path) for path in self.removed)}" if self.removed else ""

    def note(self) -> str:
        """One line for the grader's output, or ''."""
        parts = [f"put back {len(self.restored)} of the task image's tools the agent changed ({', '.join(self.restored[:5])})"
                 if self.restored else "",
                 f"removed {len(self.removed)} files shadowing them ({', '.join(self.removed[:5])})" if self.removed else ""]
        return "agentbench: the verifier ran with the task image's tools: " + "; ".join(p for p in parts if p) \
            if self.restored or self.removed else ""


def untouched_tools(client: docker.DockerClient, image: str, snapshot: str, folder: Path) -> Restoration:
    """Copy into `folder` (laid out from /) the files of `image` that the agent changed or deleted
    among its tools, and name the added files that shadow one of them."""
    changes = json.loads(client.images.get(snapshot).labels.get(CHANGES_LABEL) or "[]")
    if not changes:
        return Restoration()
    original = client.containers.create(image, command=["true"], labels={"agentbench": "1"}, network_disabled=True)
    try:
        restored = [path for kind, path in changes if kind in (MODIFIED, DELETED) and copy_file(original, path, folder)]
        added = [path for kind, path in changes if kind == ADDED and posixpath.dirname(path) in PATH_DIRS]
        removed = [path for path in added if any(is_file(original, f"{folder_}/{posixpath.basename(path)}")
                                                 for folder_ in PATH_DIRS)]
        removed += [path for kind, path in changes if kind == ADDED and path in TOOL_FILES]
    finally:
        original.remove(force=True)
    return Restoration(tuple(restored), tuple(removed))


def copy_file(container, path: str, folder: Path) -> bool:
    """Copy one file (or symlink) of a created container to `folder` + path; False for a
    directory or a path the container does not have."""
    try:
        stream, stat = container.get_archive(path)
    except docker.errors.NotFound:
        return False
    if stat["mode"] & (1 << 31):  # a directory: its own entries are listed one by one
        return False
    target = folder / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
        member = tar.getmembers()[0]
        member.name = target.name
        trusted = {"filter": "fully_trusted"} if hasattr(tarfile, "fully_trusted_filter") else {}  # the task's own image
        tar.extract(member, target.parent, **trusted)
    return True


def is_file(container, path: str) -> bool:
    try:
        stream, stat = container.get_archive(path)
    except docker.errors.NotFound:
        return False
    b"".join(stream)  # read to the end, so the connection is free again
    return not stat["mode"] & (1 << 31)
