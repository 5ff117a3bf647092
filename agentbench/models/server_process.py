"""A self-hosted model server's process: started in its own process group, waited for until it
answers, stopped with its whole group; its output in a log."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from agentbench.errors import UserError

STOP_GRACE_S = 30.0
LOG_LINES_SHOWN = 3


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def check_port_free(host: str, port: int, label: str) -> None:
    """One sentence when another process holds the port."""
    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError:
            raise UserError(f"Port {port} on {host} is taken, so {label} cannot listen there; pass another --port.") from None


def last_lines(path: Path, count: int = LOG_LINES_SHOWN) -> str:
    """The last non-empty lines of a log, joined on one line."""
    try:
        lines = [line.strip() for line in path.read_text(errors="replace").splitlines() if line.strip()]
    except OSError:
        return ""
    return " | ".join(lines[-count:])


class ServerProcess:
    """One OpenAI-compatible server process; `label` names it in messages ("vLLM for llama3-8b")."""

    def __init__(self, label: str, command: list[str], log_path: Path, host: str, port: int, ready_timeout_s: float):
        self.label = label
        self.command = command
        self.log_path = log_path
        self.host = host
        self.port = port
        self.ready_timeout_s = ready_timeout_s
        self.process: subprocess.Popen | None = None

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def start(self) -> ServerProcess:
        """Start the server and wait until it answers; stopped again if it never does."""
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(self.command, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                            start_new_session=True)
        try:
            self.wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_ready(self) -> None:
        """Poll /v1/models until it answers; one sentence if the server dies or times out."""
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise UserError(f"{self.label} exited with code {code} before it was ready; its log {self.log_path} "
                                f"ends: {last_lines(self.log_path) or '(empty)'}")
            if self._answers("/v1/models"):
                return
            time.sleep(0.5)
        raise UserError(f"{self.label} was not ready within {self.ready_timeout_s:g} s; its log is {self.log_path}.")

    def version(self) -> str | None:
        """The version the server reports at /version (vLLM does), if it says."""
        try:
            return httpx.get(f"{self.root}/version", timeout=5).json().get("version")
        except (httpx.HTTPError, ValueError, AttributeError):
            return None

    def stop(self) -> None:
        """SIGTERM to the whole process group, SIGKILL after a grace period; idempotent."""
        if self.process is None or self.process.returncode is not None:
            return
        for sig, grace in ((signal.SIGTERM, STOP_GRACE_S), (signal.SIGKILL, 10.0)):
            try:
                os.killpg(self.process.pid, sig)
            except ProcessLookupError:
                break
            try:
                self.process.wait(grace)
                break
            except subprocess.TimeoutExpired:
                continue
        _kill_group(self.process.pid)

    def _answers(self, path: str) -> bool:
        try:
            return httpx.get(f"{self.root}{path}", timeout=5).status_code == 200
        except httpx.HTTPError:
            return False

    def __enter__(self) -> ServerProcess:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _kill_group(pgid: int) -> None:
    """Whatever is left of the group once its leader has gone (workers it spawned)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
