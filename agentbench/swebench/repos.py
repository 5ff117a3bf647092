"""Repositories of SWE-bench instances: a local folder of mirrors or bundles, else GitHub;
and the agent's testbed, which holds base_commit and its ancestors only."""

from __future__ import annotations

import os
import shutil
import subprocess
import threading
from pathlib import Path

from agentbench.errors import UserError
from agentbench.paths import results_dir

GITHUB = "https://github.com/{repo}.git"


def git(*args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
    """Run git; with `check`, a failure is one sentence with git's own words."""
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False)
    if check and done.returncode != 0:
        raise UserError(f"`git {' '.join(args[:2])}` failed in {cwd or Path.cwd()}: {done.stderr.strip() or done.stdout.strip()}")
    return done


class RepoSource:
    """Where repositories come from: `root` (--repos / AGENTBENCH_SWEBENCH_REPOS) holding
    `owner__name.git`, `owner__name.bundle` or `owner__name`, else a clone from GitHub. Each is
    copied once into a bare cache mirror, which is what the rest reads."""

    def __init__(self, root: str | Path | None = None, cache: Path | None = None):
        root = root or os.environ.get("AGENTBENCH_SWEBENCH_REPOS")
        self.root = Path(root).resolve() if root else None
        if self.root is not None and not self.root.is_dir():
            raise UserError(f"Repository folder {self.root} does not exist (--repos / AGENTBENCH_SWEBENCH_REPOS).")
        self.cache = (cache or results_dir() / "swebench" / "repos").resolve()  # git runs elsewhere with these paths
        self._lock = threading.Lock()

    def __reduce__(self):
        return RepoSource, (self.root, self.cache)

    def describe(self, repo: str) -> str:
        return str(self._local(repo) or GITHUB.format(repo=repo))

    def mirror(self, repo: str) -> Path:
        """The bare cache mirror of `repo`, made on first use."""
        key = repo.replace("/", "__")
        target = self.cache / f"{key}.git"
        with self._lock:
            if not target.exists():
                origin = self._local(repo)
                if self.root is not None and origin is None:
                    raise UserError(f"{self.root} holds no {key}.git, {key}.bundle or {key} for repository {repo}.")
                self.cache.mkdir(parents=True, exist_ok=True)
                partial = target.with_suffix(".partial")
                shutil.rmtree(partial, ignore_errors=True)
                # a local copy whole (a bundle may hold its commits under any ref, not only branches
                # and tags); GitHub's branches and tags only, not its pull request refs
                copy = "--mirror" if origin else "--bare"
                cloned = git("clone", "-q", copy, str(origin or GITHUB.format(repo=repo)), str(partial), check=False)
                if cloned.returncode != 0:
                    hint = "" if origin else "; offline, pass --repos DIR with a mirror or bundle"
                    raise UserError(f"Could not copy repository {repo} from {origin or GITHUB.format(repo=repo)}{hint}: {cloned.stderr.strip()}")
                partial.rename(target)
        return target

    def require_commit(self, repo: str, commit: str, instance_id: str) -> None:
        """One sentence when the source lacks a commit an instance names."""
        if git("cat-file", "-e", f"{commit}^{{commit}}", cwd=self.mirror(repo), check=False).returncode != 0:
            raise UserError(f"Instance {instance_id} needs commit {commit}, which {self.describe(repo)} does not hold.")

    def read(self, repo: str, commit: str, path: str) -> str | None:
        """A file's text at a commit; None where it does not exist."""
        shown = git("show", f"{commit}:{path}", cwd=self.mirror(repo), check=False)
        return shown.stdout if shown.returncode == 0 else None

    def export_testbed(self, repo: str, commit: str, dest: Path) -> None:
        """A fresh repository at `dest` checked out at `commit`, holding that commit, its
        ancestors and the tags that point at them (as swebench's harness keeps them, so that
        tag-versioned projects install with their real version): no other branch, tag, remote,
        reflog, or object from its future."""
        mirror = self.mirror(repo)
        ref = f"refs/agentbench/{commit}"
        git("update-ref", ref, commit, cwd=mirror)
        git("init", "-q", "-b", "main", str(dest))
        tags = git("tag", "--merged", commit, cwd=mirror).stdout.split()
        refspecs = [f"{ref}:refs/heads/main", *(f"refs/tags/{tag}:refs/tags/{tag}" for tag in tags)]
        fetched = subprocess.run(["git", "fetch", "-q", "--no-tags", "--update-head-ok", "--stdin", str(mirror)], cwd=dest,
                                 input="\n".join(refspecs) + "\n", capture_output=True, text=True, check=False)
        if fetched.returncode != 0:
            raise UserError(f"Could not make the testbed of {repo} at {commit} from {mirror}: {fetched.stderr.strip()}")
        git("reset", "-q", "--hard", "main", cwd=dest)
        shutil.rmtree(dest / ".git" / "logs", ignore_errors=True)
        (dest / ".git" / "FETCH_HEAD").unlink(missing_ok=True)

    def _local(self, repo: str) -> Path | None:
        if self.root is None:
            return None
        key = repo.replace("/", "__")
        for candidate in (self.root / f"{key}.git", self.root / f"{key}.bundle", self.root / key):
            if candidate.exists():
                return candidate
        return None
