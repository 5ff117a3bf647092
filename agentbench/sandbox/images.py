"""Sandbox images in tiers: base (pulled, or built offline) -> optional CA layer -> recipe.

Every image is tagged with a hash of what built it, so a changed recipe rebuilds and an
unchanged one is reused.
"""

from __future__ import annotations

import fcntl
import hashlib
import io
import os
import subprocess
import tarfile
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO, Callable, Iterator

import docker
import docker.errors

from agentbench.errors import UserError
from agentbench.paths import recipe_names, results_dir, sandboxes_dir
from agentbench.sandbox.docker import LABEL

BASE_RELEASE = "bookworm"
BASE_TAG = f"agentbench/base:{BASE_RELEASE}"
CA_PATH = "/usr/local/share/agentbench/ca.crt"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")  # Debian's and Ubuntu's
Progress = Callable[[str], None]


def quiet(line: str) -> None:
    """Progress nobody watches."""


def ca_bundle_from_env() -> Path | None:
    """The CA bundle images trust besides their own: AGENTBENCH_CA_BUNDLE's (checked to exist;
    `none` for none), else the host's own bundle where it has one, so that a TLS-intercepting
    proxy the host trusts is trusted in image builds and containers too."""
    value = os.environ.get("AGENTBENCH_CA_BUNDLE")
    if value == "none":
        return None
    if not value:
        return HOST_CA_BUNDLE if HOST_CA_BUNDLE.is_file() else None
    path = Path(value)
    if not path.is_file():
        raise UserError(f"AGENTBENCH_CA_BUNDLE={value} is not a file; point it at a PEM bundle.")
    return path


@contextmanager
def build_lock(tag: str) -> Iterator[None]:
    """This machine's lock on building `tag`: processes that need one image (a cluster node's
    workers) build it one at a time, and the later ones find it built."""
    path = Path(tempfile.gettempdir()) / f"agentbench-build-{hashlib.sha256(tag.encode()).hexdigest()[:16]}.lock"
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def ensure_image(
    client: docker.DockerClient,
    name: str,
    ca_bundle: Path | None = None,
    progress: Progress = quiet,
) -> str:
    """The tag of image `name`, building it (and the tiers below it) only if missing; the CA
    bundle defaults to AGENTBENCH_CA_BUNDLE's."""
    base = ensure_base(client, BASE_RELEASE, ca_bundle or ca_bundle_from_env(), progress)
    if name == "base":
        return base
    recipe = sandboxes_dir() / name
    if not (recipe / "Dockerfile").is_file():
        known = ", ".join(recipe_names())
        raise UserError(f"No image recipe {name!r} (sandboxes/{name}/Dockerfile); known: {known}.")
    tag = recipe_tag(client, name, base)
    if not image_exists(client, tag):
        build_image(client, tag, _tar_folder(recipe), {"BASE_IMAGE": base}, progress)
    return tag


def recipe_tag(client: docker.DockerClient, name: str, base: str) -> str:
    """The tag recipe `name` builds to over the `base` image present: a hash of both."""
    return f"agentbench/{name}:{content_hash(client.images.get(base).id.encode(), *_recipe_bytes(sandboxes_dir() / name))}"


def current_recipe_tags(client: docker.DockerClient, ca_bundle: Path | None) -> set[str]:
    """The tags today's recipes build to, without building anything (none while their base
    image is missing): what `images prune` keeps."""
    base = f"agentbench/base:{BASE_RELEASE}"
    if not image_exists(client, base):
        return set()
    if ca_bundle is not None:
        base = _ca_layer_tag(client, base, ca_bundle.read_bytes())
        if not image_exists(client, base):
            return set()
    return {recipe_tag(client, name, base) for name in recipe_names() if name != "base"}


def ensure_base(client: docker.DockerClient, release: str = BASE_RELEASE, ca_bundle: Path | None = None,
                progress: Progress = quiet) -> str:
    """The base image of a Debian release (pulled where a registry answers, else debootstrapped
    and imported), with the CA layer on top when a bundle is given."""
    base = f"agentbench/base:{release}"
    if not image_exists(client, base):
        _pull_or_debootstrap(client, release, base, progress)
    return base if ca_bundle is None else _ensure_ca_layer(client, base, ca_bundle, progress)


def _pull_or_debootstrap(client: docker.DockerClient, release: str, tag: str, progress: Progress) -> None:
    official = f"debian:{release}-slim"
    try:
        progress(f"pulling {official}")
        client.images.pull(official).tag(tag)
        return
    except docker.errors.APIError as exc:
        progress(f"no registry ({exc.explanation or exc}); building {tag} offline")
    script = sandboxes_dir() / "base" / "build-offline.sh"
    log = log_path(tag)
    with tempfile.TemporaryDirectory() as tmp, open(log, "w") as log_file:
        rootfs = Path(tmp) / "rootfs.tar"
        progress(f"debootstrap {release} (about a minute; log: {log})")
        done = subprocess.run(["bash", str(script), str(rootfs), release], stdout=log_file, stderr=subprocess.STDOUT)
        if done.returncode != 0:
            raise UserError(f"Building the {release} base image offline failed; see {log}.")
        repository, name = tag.split(":")
        client.api.import_image(
            src=str(rootfs), repository=repository, tag=name, changes=[f"LABEL {LABEL}=1", 'CMD ["bash"]']
        )


def list_images(client: docker.DockerClient) -> list[docker.models.images.Image]:
    """Every image agentbench built or tagged."""
    ours = {image.id: image for image in client.images.list(filters={"label": f"{LABEL}=1"})}
    for image in client.images.list(name="agentbench/*"):
        ours.setdefault(image.id, image)
    return list(ours.values())


def prune_images(client: docker.DockerClient, repositories: set[str], keep: set[str]) -> list[str]:
    """Remove our images of these repositories (agentbench/python, say) whose tags are not in
    `keep`; returns the removed tags."""
    removed = []
    for image in list_images(client):
        tags = [t for t in image.tags if t.split(":")[0] in repositories]
        if tags and not set(tags) & keep:
            for tag in tags:
                try:
                    client.images.remove(tag)
                    removed.append(tag)
                except docker.errors.APIError:
                    pass
    return removed


def _ca_layer_tag(client, base: str, ca: bytes) -> str:
    return f"agentbench/base-ca:{content_hash(client.images.get(base).id.encode(), ca)}"


def _ensure_ca_layer(client, base: str, ca_bundle: Path, progress: Progress) -> str:
    """A layer over `base` that trusts the CA bundle for apt, pip, git and curl."""
    ca = ca_bundle.read_bytes()
    tag = _ca_layer_tag(client, base, ca)
    if image_exists(client, tag):
        return tag
    env = " ".join(f"{k}={CA_PATH}" for k in ("SSL_CERT_FILE", "PIP_CERT", "REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE", "GIT_SSL_CAINFO"))
    dockerfile = f"FROM {base}\nCOPY ca.crt {CA_PATH}\nENV {env}\n".encode()
    build_image(client, tag, tar_files({"Dockerfile": dockerfile, "ca.crt": ca}), {}, progress)
    return tag


def build_image(client, tag: str, context: bytes | BinaryIO, buildargs: dict, progress: Progress) -> None:
    """Build `tag` from a tar context, its whole log kept under results/images; the
    progress hears the build steps and how long the build took."""
    log = log_path(tag)
    progress(f"building {tag} (log: {log})")
    started = time.monotonic()
    with open(log, "w") as log_file:
        stream = client.api.build(
            fileobj=io.BytesIO(context) if isinstance(context, bytes) else context, custom_context=True, tag=tag,
            buildargs=buildargs, labels={LABEL: "1"}, rm=True, forcerm=True, decode=True,
        )
        for chunk in stream:
            if "error" in chunk:
                log_file.write(chunk["error"])
                raise UserError(f"Building image {tag} failed: {chunk['error'].strip()} (log: {log}).")
            line = chunk.get("stream", "")
            log_file.write(line)
            if line.startswith("Step "):
                progress(line.strip())
    progress(f"built {tag} in {time.monotonic() - started:.0f} s")


def image_exists(client, tag: str) -> bool:
    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


def log_path(tag: str) -> Path:
    folder = results_dir() / "images"
    folder.mkdir(parents=True, exist_ok=True)
    return folder / (tag.replace("/", "_").replace(":", "_") + ".log")


def _recipe_bytes(folder: Path) -> list[bytes]:
    files = sorted(p for p in folder.rglob("*") if p.is_file())
    return [str(p.relative_to(folder)).encode() + b"\0" + p.read_bytes() for p in files]


def content_hash(*parts: bytes) -> str:
    """A short digest of what builds an image, for its tag."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    return digest.hexdigest()[:12]


def _tar_folder(folder: Path) -> bytes:
    return tar_files({str(p.relative_to(folder)): p.read_bytes() for p in folder.rglob("*") if p.is_file()})


def tar_files(files: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        for name, data in sorted(files.items()):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()
