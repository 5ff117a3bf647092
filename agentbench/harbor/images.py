"""A Harbor task's environment image: its environment/ folder built (offline where the images it
starts FROM are on this machine, pulled where a registry answers), or its prebuilt docker_image.

agentbench's own base image (`agentbench/base:<release>`) is made first when a Dockerfile
names it, debootstrapped offline where no registry answers (agentbench.sandbox.images).
"""

from __future__ import annotations

import io
import posixpath
import re
import tarfile
from pathlib import Path
from typing import TYPE_CHECKING

import docker
import docker.errors

from agentbench.errors import UserError
from agentbench.sandbox.images import (
    Progress,
    build_image,
    content_hash,
    ensure_base,
    image_exists,
    quiet,
)

if TYPE_CHECKING:
    from agentbench.harbor.task import HarborTask

OUR_BASE = "agentbench/base:"


def dockerfile_lines(text: str) -> list[tuple[str, str]]:
    """A Dockerfile's instructions as (INSTRUCTION, argument), continuation lines joined."""
    joined = re.sub(r"\\[ \t]*\r?\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    pairs = []
    for line in joined.splitlines():
        instruction, _, argument = line.strip().partition(" ")
        if instruction:
            pairs.append((instruction.upper(), argument.strip()))
    return pairs


def dockerfile_bases(text: str) -> list[str]:
    """The images a Dockerfile starts FROM (not its own earlier stages, not `scratch`)."""
    bases, stages = [], set()
    for instruction, argument in dockerfile_lines(text):
        if instruction != "FROM":
            continue
        words = [word for word in argument.split() if not word.startswith("--")]
        if not words:
            continue
        if len(words) >= 3 and words[1].lower() == "as":
            stages.add(words[2].lower())
        if words[0].lower() not in stages | {"scratch"} and words[0] not in bases:
            bases.append(words[0])
    return bases


def dockerfile_workdir(text: str) -> str | None:
    """The working directory the Dockerfile's final stage leaves (its WORKDIRs), or None."""
    workdir = None
    for instruction, argument in dockerfile_lines(text):
        if instruction == "FROM":
            workdir = None
        elif instruction == "WORKDIR":
            workdir = posixpath.normpath(posixpath.join(workdir or "/", argument.strip("\"'")))
    return workdir


def folder_tar(folder: Path) -> bytes:
    """A folder's files as a tar archive, modes kept (scripts stay executable), owned by root."""
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for path in sorted(folder.rglob("*")):
            info = tar.gettarinfo(str(path), arcname=path.relative_to(folder).as_posix())
            info.uid = info.gid = 0
            info.uname = info.gname = "root"
            info.mtime = 0
            tar.addfile(info, io.BytesIO(path.read_bytes()) if path.is_file() else None)
    return buffer.getvalue()


def environment_image(client: docker.DockerClient, task: HarborTask, progress: Progress = quiet) -> str:
    """The image the task's attempts start from, built or pulled only when missing."""
    prebuilt = task.config.environment.docker_image
    if prebuilt:
        make_available(client, prebuilt, task.root / "task.toml", progress)
        return prebuilt
    dockerfile = task.environment_dir / "Dockerfile"
    bases = dockerfile_bases(dockerfile.read_text())
    for base in bases:
        if "$" not in base:  # set by a build argument: the build itself says whether it is there
            make_available(client, base, dockerfile, progress)
    context = folder_tar(task.environment_dir)
    base_ids = [client.images.get(base).id.encode() for base in bases if "$" not in base]
    tag = f"agentbench/harbor-{re.sub(r'[^a-z0-9]+', '-', task.id.lower()).strip('-')}:{content_hash(context, *base_ids)}"
    if not image_exists(client, tag):
        build_image(client, tag, context, {}, progress)
    return tag


def make_available(client: docker.DockerClient, image: str, named_in: Path, progress: Progress = quiet) -> None:
    """Make sure `image` is on this machine: agentbench's base is made, others are pulled; one
    that cannot be had is one sentence saying how to make it available."""
    if image_exists(client, image):
        return
    if image.startswith(OUR_BASE):
        ensure_base(client, image.removeprefix(OUR_BASE), None, progress)
        return
    try:
        progress(f"pulling {image}")
        client.images.pull(image)
    except docker.errors.DockerException as exc:
        reason = " ".join(str(getattr(exc, "explanation", None) or exc).split())[:200]
        raise UserError(f"{named_in} starts from image {image}, which is not on this machine and could not be pulled "
                        f"({reason}); `docker pull {image}` where a registry answers or `docker load -i FILE` it, "
                        f"or point FROM at a local image.") from None
