"""Read-only folders for a container: each host folder's contents in a Docker volume of its
own, filled through a container that is never started, mounted read-only (no process in the
container, root included, can change them), and removed with the container."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import docker
import docker.errors
import docker.types

from agentbench.contracts import SandboxError
from agentbench.errors import UserError


def sealed_volumes(client: docker.DockerClient, image: str, labels: dict[str, str],
                    sealed: dict[str, Path]) -> tuple[tuple, list]:
    """A volume per sealed folder, filled through a container that is never started, and its
    read-only mount."""
    volumes, mounts = [], []
    try:
        for target, folder in sealed.items():
            volume = client.volumes.create(labels=labels)
            volumes.append(volume)
            filler = client.containers.create(image, command=["true"], labels=labels, network_disabled=True,
                                              mounts=[docker.types.Mount(target, volume.name, type="volume", no_copy=True)])
            try:
                filler.put_archive(target, archive_of(folder))
            finally:
                filler.remove(force=True)
            mounts.append(docker.types.Mount(target, volume.name, type="volume", read_only=True, no_copy=True))
    except docker.errors.ImageNotFound:
        remove_volumes(volumes)
        raise UserError(f"Sandbox image {image} is missing; run `agentbench images build`.") from None
    except docker.errors.DockerException as exc:
        remove_volumes(volumes)
        raise SandboxError(f"could not prepare the read-only folders of a container from {image}: {exc}") from exc
    return tuple(volumes), mounts


def archive_of(folder: Path) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for child in sorted(folder.iterdir()):
            tar.add(child, arcname=child.name, filter=as_root)
    return buffer.getvalue()


def remove_volumes(volumes) -> None:
    """Remove volumes no container uses any more (one still in use is left for a later prune)."""
    for volume in volumes:
        try:
            volume.remove(force=True)
        except docker.errors.NotFound:
            pass
        except docker.errors.APIError as exc:
            if exc.status_code != 409:
                raise


def as_root(info: tarfile.TarInfo) -> tarfile.TarInfo:
    info.uid = info.gid = 0
    info.uname = info.gname = "root"
    return info
