"""Shared fixtures: a real Docker engine, the python sandbox image, a scratch store."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from agentbench.models.chat_server import ChatServer, Reply
from agentbench.store import open_store

FIXTURES = Path(__file__).parent / "fixtures"


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
def python_image(docker_client):
    from agentbench.sandbox.images import ensure_image

    return ensure_image(docker_client, "python")


@pytest.fixture
def engine():
    return open_store()


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
