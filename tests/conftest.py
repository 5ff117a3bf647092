"""Shared fixtures: a real Docker engine, the python sandbox image, a scratch store, a real
PostgreSQL server."""

from __future__ import annotations

import glob
import itertools
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

from agentbench.models.chat_server import ChatServer, Reply
from agentbench.store_open import open_store

FIXTURES = Path(__file__).parent / "fixtures"


DOCKER_FIXTURES = {"docker_client", "sandboxes", "python_image"}


def pytest_collection_modifyitems(items):
    """A test that uses the Docker engine, through any fixture, carries the `docker` marker, so
    `pytest -m "not docker"` runs the rest anywhere."""
    for item in items:
        if DOCKER_FIXTURES & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.docker)


@pytest.fixture(autouse=True)
def scratch_results(tmp_path, monkeypatch):
    """Every test writes its database and logs under its own temporary folder."""
    monkeypatch.setenv("AGENTBENCH_RESULTS", str(tmp_path / "results"))
    monkeypatch.setenv("AGENTBENCH_DB", f"sqlite:///{tmp_path / 'agentbench.db'}")


@pytest.fixture(scope="session")
def docker_client():
    """The local Docker engine; a missing engine skips locally but fails under CI."""
    from agentbench.errors import UserError
    from agentbench.sandbox.docker import docker_client as connect

    try:
        return connect()
    except UserError as exc:
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the Docker tests: {exc}")
        pytest.skip(str(exc))


@pytest.fixture(scope="session")
def sandboxes(docker_client):
    """Sandboxes on the local Docker engine (the SandboxFactory runs and graders use)."""
    from agentbench.sandbox.docker import DockerSandboxes

    return DockerSandboxes(docker_client)


@pytest.fixture(scope="session")
def python_image(docker_client):
    from agentbench.sandbox.images import ensure_image

    return ensure_image(docker_client, "python")


@pytest.fixture
def engine():
    return open_store()


def postgres_bin() -> Path | None:
    """The newest installed PostgreSQL's bin folder (Debian's `postgresql` package), if any."""
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"), key=lambda path: int(Path(path).parent.parent.name))
    return Path(found[-1]).parent if found else None


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def postgres_server():
    """A PostgreSQL server of our own on 127.0.0.1 (its zone not UTC, as a team's may be), run as
    the `postgres` user when we are root; its base URL. Missing PostgreSQL skips locally, fails under CI."""
    bin_dir = postgres_bin()
    if bin_dir is None:
        reason = "PostgreSQL is not installed (apt-get install postgresql)"
        if os.environ.get("CI"):
            pytest.fail(f"CI must run the PostgreSQL tests: {reason}")
        pytest.skip(reason)
    as_owner = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    home = Path(tempfile.mkdtemp(prefix="agentbench-pg-"))
    if as_owner:
        shutil.chown(home, "postgres", "postgres")
    data, port = home / "data", free_port()
    settings = f"-p {port} -k {home} -c listen_addresses=127.0.0.1 -c fsync=off -c timezone=Pacific/Auckland"
    try:
        run_or_say_why([*as_owner, bin_dir / "initdb", "-D", data, "-U", "postgres", "--auth=trust", "--no-sync"])
        run_or_say_why([*as_owner, bin_dir / "pg_ctl", "start", "-w", "-D", data, "-l", home / "server.log", "-o", settings])
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}"
    finally:
        subprocess.run([*as_owner, bin_dir / "pg_ctl", "stop", "-m", "immediate", "-D", data], check=False, capture_output=True)
        shutil.rmtree(home, ignore_errors=True)


def run_or_say_why(command: list) -> None:
    """Run a PostgreSQL command; if it fails, the error carries its own words."""
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        raise RuntimeError(f"{' '.join(map(str, command))} failed: {done.stderr or done.stdout}")


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres_server):
    """A fresh, empty database on the session's PostgreSQL server."""
    import psycopg

    name = f"test_{next(_databases)}"
    with psycopg.connect(postgres_server.replace("+psycopg", "") + "/postgres", autocommit=True) as admin:
        admin.execute(f"CREATE DATABASE {name}")
    return f"{postgres_server}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """An empty store on each backend: an SQLite file, and a database on a real PostgreSQL server."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'store.db'}"
    return request.getfixturevalue("postgres_url")


class Script:
    """A scripted model: the n-th answer in a conversation is replies[n] (then 'done')."""

    def __init__(self, replies: list[Reply]):
        self.replies = replies

    def __call__(self, request: dict, route: str) -> Reply:
        turn = sum(1 for message in request["messages"] if message["role"] == "assistant")
        return self.replies[turn] if turn < len(self.replies) else Reply(content="done", prompt_tokens=1, completion_tokens=1)


@pytest.fixture
def scripted_server():
    """Start ChatServers for scripted replies; all are stopped after the test."""
    servers: list[ChatServer] = []

    def start(replies: list[Reply], model_ids=("scripted",)) -> ChatServer:
        server = ChatServer(Script(replies), model_ids=model_ids).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()
