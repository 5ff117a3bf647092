"""Docker backend: one labelled, resource-limited, unprivileged container per sandbox."""

from __future__ import annotations

import io
import json
import posixpath
import tarfile
import time
from pathlib import Path

import docker
import docker.errors

from agentbench.contracts import (
    ContainerExited,
    DiskQuotaExceeded,
    ExecResult,
    SandboxError,
    SandboxLimits,
)
from agentbench.errors import UserError
from agentbench.sandbox.changes import CHANGES_LABEL, tool_changes
from agentbench.sandbox.supervisor import NO_ROOM, NO_ROOM_EXIT, SUPERVISOR, SWEEP_PIDS
from agentbench.sandbox.volumes import as_root, remove_volumes, sealed_volumes

LABEL = "agentbench"
def docker_client() -> docker.DockerClient:
    """A client for the local engine, or one sentence saying how to get one."""
    try:
        client = docker.from_env(timeout=120, max_pool_size=64)  # a connection per worker, reused
        client.ping()
    except docker.errors.DockerException as exc:
        raise UserError(
            "No Docker engine answers; run `make setup` (or `bash sandboxes/ensure-docker.sh`) "
            f"to start one, or set DOCKER_HOST ({exc.__class__.__name__})."
        ) from None
    return client


class DockerSandbox:
    """A running container; use as a context manager so it is always removed."""

    def __init__(self, container, limits: SandboxLimits, workdir: str, volumes: tuple = ()):
        self.container = container
        self.limits = limits
        self.workdir = workdir
        self.volumes = volumes  # the read-only folders' volumes, removed with the container

    @classmethod
    def start(
        cls,
        client: docker.DockerClient,
        image: str,
        *,
        labels: dict[str, str] | None = None,
        network: bool = False,
        limits: SandboxLimits = SandboxLimits(),
        workdir: str = "/workspace",
        sealed: dict[str, Path] | None = None,
    ) -> DockerSandbox:
        """Start a container that idles until commands are executed in it; each `sealed` host
        folder's contents appear read-only at its container path (even to root)."""
        volumes, mounts = sealed_volumes(client, image, {LABEL: "1", **(labels or {})}, sealed or {})
        try:
            container = client.containers.run(
                image,
                command=["sleep", "infinity"],
                init=True,
                detach=True,
                labels={LABEL: "1", **(labels or {})},
                network_disabled=not network,
                mem_limit=limits.memory,
                memswap_limit=limits.memory,
                nano_cpus=int(limits.cpus * 1e9),
                pids_limit=limits.pids,
                cap_drop=["ALL"],
                cap_add=["CHOWN", "DAC_OVERRIDE", "FOWNER", "KILL", "SETUID", "SETGID"],
                security_opt=["no-new-privileges"],
                privileged=False,
                working_dir=workdir,  # the engine makes it: no exec needed
                mounts=mounts,
            )
        except docker.errors.ImageNotFound:
            remove_volumes(volumes)
            raise UserError(f"Sandbox image {image} is missing; run `agentbench images build`.") from None
        except docker.errors.DockerException as exc:
            remove_volumes(volumes)
            raise SandboxError(f"could not start a container from {image}: {exc}") from exc
        return cls(container, limits, workdir, volumes)

    def __enter__(self) -> DockerSandbox:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def exec(self, command: str, timeout: float = 60, cwd: str | None = None) -> ExecResult:
        """Run `bash -c command` in `cwd` (default: the working directory); its processes are
        killed inside the container at `timeout`. When the container has no PID left to start
        the command with (a fork bomb fills it), room is made first and the command run again."""
        started = time.monotonic()
        exit_code, stdout, stderr, truncated = self._run(command, timeout, cwd, self.limits.pids // 2)
        if exit_code == NO_ROOM_EXIT and NO_ROOM in stdout + stderr:
            self._make_room()
            exit_code, stdout, stderr, truncated = self._run(command, timeout, cwd, self.limits.pids // 2)
        duration = time.monotonic() - started
        timed_out = exit_code in (124, 137) and duration >= timeout
        self._check_disk()
        return ExecResult(exit_code, stdout, stderr, duration, timed_out, truncated)

    def _run(self, command: str, timeout: float, cwd: str | None, crowd: int) -> tuple[int, str, str, bool]:
        """One supervised exec: its exit code, output and whether the output was cut."""
        api = self.container.client.api
        argv = ["bash", "-c", SUPERVISOR, "agentbench-exec", f"{timeout:g}s", command, str(crowd),
                str(self.limits.disk_bytes // 1024)]
        try:
            exec_id = api.exec_create(self.container.id, argv, workdir=cwd or self.workdir)["Id"]
            chunks = api.exec_start(exec_id, stream=True, demux=True)
            stdout, stderr, truncated = _collect(chunks, self.limits.output_bytes)
            exit_code = api.exec_inspect(exec_id)["ExitCode"]
        except docker.errors.DockerException as exc:
            self._raise_if_exited()
            raise SandboxError(f"exec failed in container {self.container.short_id}: {exc}") from exc
        if exit_code is None:
            self._raise_if_exited()
            raise SandboxError(f"container {self.container.short_id} stopped during a command")
        return exit_code, stdout, stderr, truncated

    def _make_room(self) -> None:
        """Lift the PID limit for a moment, sweep every process but the container's own, and
        put the limit back."""
        self._set_pids_limit(self.limits.pids + SWEEP_PIDS)
        try:
            self._run("true", 30, "/", crowd=0)
        finally:
            self._set_pids_limit(self.limits.pids)

    def _set_pids_limit(self, pids: int) -> None:
        api = self.container.client.api
        try:  # docker-py's update_container has no PID limit; the engine's endpoint does
            api._raise_for_status(api._post_json(api._url("/containers/{0}/update", self.container.id), data={"PidsLimit": pids}))
        except docker.errors.DockerException as exc:
            raise SandboxError(f"could not change the PID limit of container {self.container.short_id}: {exc}") from exc

    def revive(self) -> None:
        """Start the container again if what ran in it ended its main process, so the harness
        can still read the workspace; its files are as they were."""
        if self._exit_code() is not None:
            try:
                self.container.start()
            except docker.errors.DockerException as exc:
                raise SandboxError(f"could not restart container {self.container.short_id}: {exc}") from exc

    def snapshot(self) -> str:
        """Stop the container and commit its files (not its processes) to a new, untagged image,
        labelled as ours and with what the agent changed among its tools (agentbench.sandbox.changes);
        returns the image's id. Whoever takes it removes it."""
        try:
            self.container.stop(timeout=2)
            changes = json.dumps(tool_changes(self.container.diff()))  # the engine's record, not the agent's
            image = self.container.commit(conf={"Labels": {LABEL: "1", "agentbench.snapshot": "1", CHANGES_LABEL: changes}})
        except docker.errors.DockerException as exc:
            raise SandboxError(f"could not snapshot container {self.container.short_id}: {exc}") from exc
        return image.id

    def _exit_code(self) -> int | None:
        """The main process's exit code when the container has exited (the engine answering), else None."""
        try:
            self.container.reload()
        except docker.errors.DockerException:
            return None
        return self.container.attrs["State"].get("ExitCode") if self.container.status == "exited" else None

    def _raise_if_exited(self) -> None:
        code = self._exit_code()
        if code is not None:
            raise ContainerExited(f"the sandbox's main process was ended from inside (exit code {code}), "
                                  "by `kill 1` or the like")

    def written_bytes(self) -> int:
        """What the container has written to its own filesystem (its writable layer)."""
        try:
            found = self.container.client.api.containers(all=True, size=True, filters={"id": self.container.id})
        except docker.errors.DockerException as exc:
            raise SandboxError(f"could not measure container {self.container.short_id}: {exc}") from exc
        return int(found[0].get("SizeRw") or 0) if found else 0

    def _check_disk(self) -> None:
        written = self.written_bytes()
        if written > self.limits.disk_bytes:
            raise DiskQuotaExceeded(f"the sandbox wrote {_size(written)}, over its disk quota of {_size(self.limits.disk_bytes)}")

    def read_file(self, path: str) -> str:
        """The text of a file in the container (FileNotFoundError when absent)."""
        try:
            stream, _ = self.container.get_archive(path)
        except docker.errors.NotFound:
            raise FileNotFoundError(path) from None
        except docker.errors.DockerException as exc:
            raise SandboxError(f"could not read {path}: {exc}") from exc
        with tarfile.open(fileobj=io.BytesIO(b"".join(stream))) as tar:
            member = tar.next()
            if member is None or not member.isfile():
                raise IsADirectoryError(path)
            return tar.extractfile(member).read().decode("utf-8", errors="replace")

    def write_file(self, path: str, content: str) -> None:
        """Create or replace a file, making its parent folders."""
        data = content.encode("utf-8")
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            info = tarfile.TarInfo(_from_root(path))
            info.size, info.mode, info.mtime = len(data), 0o644, int(time.time())
            tar.addfile(info, io.BytesIO(data))
        self._put("/", buffer.getvalue())

    def copy_in(self, src: Path, dest: str) -> None:
        """Copy a host file or folder's contents to `dest` in the container, owned by root."""
        folder = _from_root(dest)
        buffer = io.BytesIO()
        with tarfile.open(fileobj=buffer, mode="w") as tar:
            if src.is_dir():
                for child in sorted(src.iterdir()):
                    tar.add(child, arcname=posixpath.join(folder, child.name), filter=as_root)
            else:
                tar.add(src, arcname=posixpath.join(folder, src.name), filter=as_root)
        self._put("/", buffer.getvalue())

    def close(self) -> None:
        """Remove the container and everything in it; safe to call twice."""
        try:
            self.container.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if "already in progress" not in str(exc):
                raise
        remove_volumes(self.volumes)

    def _put(self, dest: str, archive: bytes) -> None:
        try:
            self.container.put_archive(dest, archive)
        except docker.errors.DockerException as exc:
            raise SandboxError(f"could not copy into {dest}: {exc}") from exc


class DockerSandboxes:
    """The Docker backend (SandboxFactory): sandboxes are containers of one engine."""

    def __init__(self, client: docker.DockerClient):
        self.client = client

    @classmethod
    def connect(cls) -> DockerSandboxes:
        """Sandboxes on the engine DOCKER_HOST (or the local socket) names."""
        return cls(docker_client())

    def __reduce__(self):
        """Sent to another process, it connects to the engine that process's environment names."""
        return DockerSandboxes.connect, ()

    def start(self, image: str, labels: dict[str, str], network: bool = False, workdir: str = "/workspace",
              sealed: dict[str, Path] | None = None) -> DockerSandbox:
        return DockerSandbox.start(self.client, image, labels=labels, network=network, workdir=workdir, sealed=sealed)

    def remove(self, labels: dict[str, str]) -> int:
        return remove_containers(self.client, labels)

    def image_digest(self, image: str) -> str:
        attrs = self.client.images.get(image).attrs
        return (attrs.get("RepoDigests") or [attrs["Id"]])[0]


def remove_containers(client: docker.DockerClient, labels: dict[str, str] | None = None) -> int:
    """Force-remove our containers (all, or those carrying `labels`); returns how many."""
    filters = [f"{LABEL}=1"] + [f"{key}={value}" for key, value in (labels or {}).items()]
    removed = 0
    for container in client.containers.list(all=True, filters={"label": filters}, ignore_removed=True):
        try:
            container.remove(force=True)
            removed += 1
        except docker.errors.NotFound:
            pass
    remove_volumes(client.volumes.list(filters={"label": filters}))
    return removed


def _size(count: int) -> str:
    return f"{count / 2**30:.1f} GiB" if count >= 2**30 else f"{count / 2**20:.0f} MiB"


def _from_root(path: str) -> str:
    """An absolute container path as a tar member name; the engine makes missing parents as it
    unpacks at /, which saves an exec per copy."""
    return posixpath.normpath(path).lstrip("/")


def _collect(chunks, cap: int) -> tuple[str, str, bool]:
    """Gather demuxed output, keeping at most `cap` bytes of each stream; NUL bytes (a binary
    file printed) are shown as \\0, which every store can hold."""
    out, err = bytearray(), bytearray()
    truncated = False
    for stdout_chunk, stderr_chunk in chunks:
        for buffer, chunk in ((out, stdout_chunk), (err, stderr_chunk)):
            if not chunk:
                continue
            room = cap - len(buffer)
            if len(chunk) > room:
                truncated = True
            buffer.extend(chunk[: max(room, 0)])
    return _text(out), _text(err), truncated


def _text(data: bytearray) -> str:
    return data.decode("utf-8", "replace").replace("\x00", "\\0")
