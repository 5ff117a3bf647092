"""SWE-bench images in swebench's three tiers, built once and reused by every later run:

- python: a Debian release that ships the spec's Python, with a venv at /opt/testbed;
- environment (per repo, version and environment_setup_commit): the requirements and pinned
  packages swebench specifies, installed in that venv;
- instance: the history-free testbed at base_commit in /testbed, installed as the spec says.

Or, with `pull`, swebench's prebuilt instance image with a layer that strips its git history.
"""

from __future__ import annotations

import json
import shlex
import tarfile
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import docker
import docker.errors

from agentbench.errors import UserError
from agentbench.paths import results_dir
from agentbench.sandbox.docker import docker_client
from agentbench.sandbox.images import (
    Progress,
    build_image,
    build_lock,
    ca_bundle_from_env,
    content_hash,
    ensure_base,
    image_exists,
    quiet,
    tar_files,
)
from agentbench.swebench.instances import Instance
from agentbench.swebench.repos import RepoSource
from agentbench.swebench.specs import (
    TESTBED,
    VENV,
    PythonChoice,
    python_for,
    requirements,
    spec_for,
)
from agentbench.workspace import BASE_REF

IMAGE_MODES = ("auto", "pull", "build")
CONDA_ENV = "/opt/miniconda3/envs/testbed"  # where swebench's prebuilt images keep the testbed's Python

PYTHON_TIER = f"""FROM {{base}}
ENV DEBIAN_FRONTEND=noninteractive LANG=C.UTF-8 PYTHONDONTWRITEBYTECODE=1 \\
    PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore PIP_NO_INPUT=1
RUN apt-get update -qq \\
 && apt-get install -y -qq --no-install-recommends python3 python3-venv python3-dev build-essential \\
      git ca-certificates patch procps locales \\
 && rm -rf /var/lib/apt/lists/*
RUN printf '__pycache__/\\n*.pyc\\n.pytest_cache/\\n' > /etc/gitignore \\
 && git config --system core.excludesFile /etc/gitignore \\
 && git config --system user.email agent@agentbench.invalid \\
 && git config --system user.name agentbench \\
 && git config --system --add safe.directory '*'
RUN python3 -m venv {VENV} && {VENV}/bin/python -m pip install -q --upgrade pip wheel setuptools
COPY link_testbed.py /root/link_testbed.py
RUN python3 /root/link_testbed.py && rm /root/link_testbed.py
ENV PATH={VENV}/bin:$PATH VIRTUAL_ENV={VENV}
"""

# A venv is found from the path a python runs by, so a link to the venv's python elsewhere
# (tox-current-env's env dirs) runs the bare system Python. In swebench's conda env the
# binary is the env's own; here the system Python gets the testbed's packages too.
LINK_TESTBED = f"""import pathlib, site, subprocess
purelib = subprocess.run(["{VENV}/bin/python", "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
                         capture_output=True, text=True, check=True).stdout.strip()
folder = pathlib.Path(site.getsitepackages()[0])
folder.mkdir(parents=True, exist_ok=True)
(folder / "agentbench-testbed.pth").write_text(f"import site, sys; sys.prefix == sys.base_prefix and site.addsitedir({{purelib!r}})\\n")
"""

# Keep only base_commit, its ancestors and the tags that point at them (a tag-versioned project
# reinstalls with its real version), and mark the start of the agent's work; files the install
# left untracked are ignored from then on, so they never enter the agent's diff.
SCRUB = f"""git remote | xargs -r -n1 git remote remove
git tag --no-merged HEAD | xargs -r git tag -d
git for-each-ref --format='%(refname)' | {{ grep -vx "$(git symbolic-ref -q HEAD || echo HEAD)" || true; }} \\
  | {{ grep -v '^refs/tags/' || true; }} | xargs -r -n1 git update-ref -d
git reflog expire --expire=now --all
git gc -q --prune=now
git update-ref {BASE_REF} HEAD
git ls-files --others --exclude-standard >> .git/info/exclude
"""

# The project's build backend, where the venv lacks it, so that the eval script's reinstall
# works offline without build isolation. Installed packages are pinned: a requirement that
# would change one (oldest-supported-numpy downgrading numpy) is left out, not installed.
BUILD_REQUIRES = """
import importlib.metadata, pathlib, subprocess, sys, tempfile
try:
    import tomllib
except ImportError:
    from pip._vendor import tomli as tomllib
from pip._vendor.packaging.requirements import Requirement
from pip._vendor.packaging.utils import canonicalize_name
project = pathlib.Path("pyproject.toml")
requires = tomllib.loads(project.read_text()).get("build-system", {}).get("requires", []) if project.exists() else []
installed = {canonicalize_name(d.metadata["Name"]): f"{d.metadata['Name']}=={d.version}"
             for d in importlib.metadata.distributions() if d.metadata["Name"]}
pins = pathlib.Path(tempfile.mkdtemp()) / "installed.txt"
pins.write_text("\\n".join(installed.values()) + "\\n")
for text in [*requires, "setuptools", "wheel"]:
    if canonicalize_name(Requirement(text).name) not in installed:
        done = subprocess.run([sys.executable, "-m", "pip", "install", "-c", str(pins), text])
        if done.returncode:
            print(f"build requirement {text} left out: pip cannot add it without changing installed packages")
"""


# The spec's install at base_commit; what it changes in tracked files is committed with the
# base commit's own dates, so nothing in the history is newer than base_commit.
INSTALL = """set -euxo pipefail
cd {testbed}
source {venv}/bin/activate
{steps}
python - <<'EOF_BUILD_REQUIRES'
{build_requires}
EOF_BUILD_REQUIRES
if [ -n "$(git status --porcelain --untracked-files=no)" ]; then
  GIT_AUTHOR_DATE=$(git show -s --format=%aI HEAD) GIT_COMMITTER_DATE=$(git show -s --format=%cI HEAD) \\
    git commit -q -am "environment setup"
fi
{scrub}"""


# From here on there is no network: pip must not wait on an index, and reinstalls use the
# venv's build backend (pip reads PIP_NO_BUILD_ISOLATION=0 as --no-build-isolation).
OFFLINE_PIP = "ENV PIP_NO_INDEX=1 PIP_NO_BUILD_ISOLATION=0"


@dataclass(frozen=True)
class InstanceImage:
    """An instance's image and how it was made."""

    tag: str
    pulled: bool  # swebench's prebuilt image (conda) rather than one built here (venv)


class SwebenchImages:
    """Builds (or pulls) and caches the images of SWE-bench instances; thread-safe, each image
    built once, at most `build_slots` builds at a time. The CA bundle (default:
    AGENTBENCH_CA_BUNDLE's) is trusted by apt and pip during builds."""

    def __init__(self, client: docker.DockerClient, source: RepoSource, mode: str = "auto",
                 ca_bundle: Path | None = None, progress: Progress = quiet, build_slots: int = 2):
        if mode not in IMAGE_MODES:
            raise UserError(f"--images must be one of {', '.join(IMAGE_MODES)}, not {mode!r}.")
        self.client, self.source, self.mode = client, source, mode
        self.ca_bundle, self.progress = ca_bundle or ca_bundle_from_env(), progress
        self.build_slots, self.slots = build_slots, threading.BoundedSemaphore(build_slots)
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()
        self.registry_down = threading.Event()  # `auto`: a pull failed, so build from then on

    def __reduce__(self):
        """Sent to another process, it builds there, on the engine that process's environment
        names, with locks of its own; its progress stays unheard."""
        return _images_elsewhere, (self.source, self.mode, self.ca_bundle, self.build_slots, self.registry_down.is_set())

    def check(self, instance: Instance) -> None:
        """Everything about an instance a user can get wrong, one sentence each, before any build."""
        spec = spec_for(instance)
        if self.mode == "pull":
            return
        if "python" not in spec:
            raise UserError(f"Instance {instance.instance_id}: {instance.repo} is not a Python repository, and agentbench "
                            "builds Python environments only; use --images pull where a registry answers.")
        if spec.get("packages") == "environment.yml":
            raise UserError(f"Instance {instance.instance_id}: {instance.repo} {instance.version} needs a conda environment.yml, "
                            "which the offline images do not build; use --images pull where a registry answers.")
        for commit in (instance.base_commit, instance.environment_setup_commit):
            self.source.require_commit(instance.repo, commit, instance.instance_id)
        if spec.get("packages") == "requirements.txt":
            requirements(instance, self.source)

    def python(self, instance: Instance) -> PythonChoice:
        return python_for(spec_for(instance)["python"])

    def environment(self, instance: Instance) -> str:
        """The environment image of the instance's repo, version and environment commit."""
        choice = self.python(instance)
        python_tier = self._python_tier(choice.release)
        spec = spec_for(instance)
        files = {"Dockerfile": self._environment_dockerfile(python_tier, spec, choice)}
        if spec.get("packages") == "requirements.txt":
            files["requirements.txt"] = requirements(instance, self.source)
        context = tar_files({name: text.encode() for name, text in files.items()})
        key = content_hash(self.client.images.get(python_tier).id.encode(), context)
        tag = f"agentbench/sweb.env:{instance.repo_key}-{instance.version}-{key}".lower()
        return self._once(tag, lambda: build_image(self.client, tag, context, {}, self.progress))

    def instance(self, instance: Instance) -> InstanceImage:
        """The instance's image: pulled where asked (and a registry answers), else built."""
        if self.mode == "pull" or (self.mode == "auto" and not self.registry_down.is_set()):
            pulled = self._pulled(instance)
            if pulled is not None:
                return InstanceImage(pulled, pulled=True)
        environment = self.environment(instance)
        install = self._install_script(instance)
        key = content_hash(self.client.images.get(environment).id.encode(), instance.base_commit.encode(), install.encode())
        tag = f"agentbench/sweb.instance:{instance.instance_id}-{key}".lower()
        self._once(tag, lambda: self._build_instance(instance, tag, environment, install))
        return InstanceImage(tag, pulled=False)

    def remove(self, image: InstanceImage) -> None:
        """Remove an instance image (the shared environment images stay)."""
        try:
            self.client.images.remove(image.tag, force=True)
        except docker.errors.ImageNotFound:
            pass

    def _python_tier(self, release: str) -> str:
        with self._guard:  # one debootstrap per release, whichever thread asks first
            base = ensure_base(self.client, release, self.ca_bundle, self.progress)
        dockerfile = PYTHON_TIER.format(base=base)
        context = tar_files({"Dockerfile": dockerfile.encode(), "link_testbed.py": LINK_TESTBED.encode()})
        tag = f"agentbench/sweb.python:{release}-{content_hash(self.client.images.get(base).id.encode(), context)}"
        return self._once(tag, lambda: build_image(self.client, tag, context, {}, self.progress))

    def _environment_dockerfile(self, python_tier: str, spec: dict, choice: PythonChoice) -> str:
        lines = [f"FROM {python_tier}", f"LABEL agentbench.python={json.dumps(choice.deviation or choice.python)}"]
        packages = spec.get("packages", "")
        if packages == "requirements.txt":
            lines += ["COPY requirements.txt /root/requirements.txt",
                      "RUN python -m pip install -r /root/requirements.txt && rm /root/requirements.txt"]
        elif packages:
            lines.append(f"RUN python -m pip install {packages}")
        if spec.get("pip_packages"):
            lines.append(f"RUN python -m pip install {' '.join(shlex.quote(p) for p in spec['pip_packages'])}")
        return "\n".join(lines) + "\n"

    def _install_script(self, instance: Instance) -> str:
        spec = spec_for(instance)
        steps = [*spec.get("pre_install", []), *([spec["install"]] if "install" in spec else [])]
        return INSTALL.format(testbed=TESTBED, venv=VENV, steps="\n".join(steps), build_requires=BUILD_REQUIRES.strip(), scrub=SCRUB)

    def _build_instance(self, instance: Instance, tag: str, environment: str, install: str) -> None:
        dockerfile = f"FROM {environment}\nCOPY testbed {TESTBED}\nCOPY install.sh /root/install.sh\n" \
                     f"RUN bash /root/install.sh && rm /root/install.sh\n{OFFLINE_PIP}\nWORKDIR {TESTBED}\n"
        folder = results_dir() / "swebench" / "contexts"
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=folder) as tmp:
            testbed = Path(tmp) / "testbed"
            self.source.export_testbed(instance.repo, instance.base_commit, testbed)
            context = Path(tmp) / "context.tar"
            with tarfile.open(context, "w") as tar:
                for name, text in (("Dockerfile", dockerfile), ("install.sh", install)):
                    path = Path(tmp) / name
                    path.write_text(text)
                    tar.add(path, arcname=name)
                tar.add(testbed, arcname="testbed")
            with open(context, "rb") as stream:
                build_image(self.client, tag, stream, {}, self.progress)

    def _pulled(self, instance: Instance) -> str | None:
        """swebench's prebuilt image with its history stripped; None where `auto` finds no registry."""
        official = instance.image or f"swebench/sweb.eval.x86_64.{instance.instance_id.replace('__', '_1776_')}:latest".lower()
        tag = f"agentbench/sweb.pulled:{instance.instance_id}-{content_hash(official.encode())}".lower()
        if image_exists(self.client, tag):
            return tag
        try:
            with self.slots:
                self.progress(f"pulling {official}")
                self.client.images.pull(official)
        except docker.errors.APIError as exc:
            if self.mode == "pull":
                raise UserError(f"Could not pull {official} for {instance.instance_id} ({exc.explanation or exc}); "
                                "use --images build to build it offline.") from None
            self.progress(f"no registry answers ({exc.explanation or exc}); using images built here from now on")
            self.registry_down.set()
            return None
        scrub = f"cd {TESTBED}\n{SCRUB}"
        dockerfile = f"FROM {official}\nCOPY scrub.sh /root/scrub.sh\nRUN bash -eux /root/scrub.sh && rm /root/scrub.sh\n" \
                     f"ENV PATH={CONDA_ENV}/bin:$PATH\nWORKDIR {TESTBED}\n"
        context = tar_files({"Dockerfile": dockerfile.encode(), "scrub.sh": scrub.encode()})
        return self._once(tag, lambda: build_image(self.client, tag, context, {}, self.progress))

    def _once(self, tag: str, build) -> str:
        """Build `tag` unless it exists, once across threads and this machine's processes (a
        cluster node's workers), within the build slots."""
        with self._guard:
            lock = self._locks.setdefault(tag, threading.Lock())
        with lock, build_lock(tag):
            if not image_exists(self.client, tag):
                with self.slots:
                    build()
        return tag


def _images_elsewhere(source: RepoSource, mode: str, ca_bundle: Path | None, build_slots: int, registry_down: bool) -> SwebenchImages:
    images = SwebenchImages(docker_client(), source, mode, ca_bundle, build_slots=build_slots)
    if registry_down:
        images.registry_down.set()
    return images
