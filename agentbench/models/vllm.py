"""The vLLM server lifecycle: the `vllm serve` command of a profile, start, wait, stop."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx

from agentbench.errors import UserError
from agentbench.models.profiles import ModelProfile

INSTALL_HINT = "install it with `pip install 'agentbench[serve]'` on a GPU machine"
STOP_GRACE_S = 30.0


def serve_command(profile: ModelProfile, host: str = "127.0.0.1", port: int = 8000, executable: str = "vllm") -> list[str]:
    """The complete `vllm serve` argument list for a self-hosted profile."""
    if profile.provider != "vllm":
        raise UserError(f"Model profile {profile.name!r} is reached through its {profile.provider} API, not served by vLLM.")
    args = profile.server_args
    command = [executable, "serve", profile.resolved_model(), "--served-model-name", profile.resolved_model(),
               "--host", host, "--port", str(port), "--tensor-parallel-size", str(args.tensor_parallel_size)]
    options = {"--max-model-len": args.max_model_len, "--quantization": args.quantization, "--dtype": args.dtype,
               "--gpu-memory-utilization": args.gpu_memory_utilization, "--chat-template": args.chat_template,
               "--speculative-config": json.dumps(args.speculative_config, sort_keys=True) if args.speculative_config else None}
    for flag, value in options.items():
        if value is not None:
            command += [flag, str(value)]
    command.append("--enable-prefix-caching" if args.enable_prefix_caching else "--no-enable-prefix-caching")
    if args.tool_call_parser:
        command += ["--enable-auto-tool-choice", "--tool-call-parser", args.tool_call_parser]
    return command + args.extra_args


def available_gpus() -> int:
    """GPUs this machine offers: AGENTBENCH_GPUS if set, else what `nvidia-smi -L` lists."""
    if os.environ.get("AGENTBENCH_GPUS"):
        return int(os.environ["AGENTBENCH_GPUS"])
    if not shutil.which("nvidia-smi"):
        return 0
    try:
        listing = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=30).stdout
    except (OSError, subprocess.TimeoutExpired):
        return 0
    return sum(1 for line in listing.splitlines() if line.startswith("GPU "))


def vllm_executable() -> str | None:
    """The `vllm` command: AGENTBENCH_VLLM if set, else the one on PATH."""
    return os.environ.get("AGENTBENCH_VLLM") or shutil.which("vllm")


def check_can_serve(profile: ModelProfile) -> str:
    """The vllm executable for this profile, or one sentence on what the machine lacks."""
    found, needed = available_gpus(), profile.gpus or 1
    if found < needed:
        raise UserError(
            f"Model profile {profile.name!r} needs {needed} GPU(s) to serve and this machine has {found}; "
            f"point it at a running server instead with --base-url (make: BASE_URL=http://host:8000/v1)."
        )
    executable = vllm_executable()
    if not executable:
        raise UserError(f"Model profile {profile.name!r} is served by vLLM, which is not installed: {INSTALL_HINT}, or pass --base-url.")
    return executable


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class VllmServer:
    """One `vllm serve` process in its own process group, its output in `log_path`."""

    def __init__(self, profile: ModelProfile, log_path: Path, executable: str, port: int | None = None,
                 host: str = "127.0.0.1", ready_timeout_s: float = 1800):
        self.profile = profile
        self.log_path = log_path
        self.host = host
        self.port = port or free_port()
        self.ready_timeout_s = ready_timeout_s
        self.command = serve_command(profile, host, self.port, executable)
        self.process: subprocess.Popen | None = None

    @property
    def root(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"{self.root}/v1"

    def start(self) -> VllmServer:
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
        """Poll /health, then /v1/models, until both answer; one sentence if the server dies or times out."""
        deadline = time.monotonic() + self.ready_timeout_s
        while time.monotonic() < deadline:
            code = self.process.poll()
            if code is not None:
                raise UserError(f"vLLM for {self.profile.name!r} exited with code {code} before it was ready; its log is {self.log_path}.")
            if self._answers("/health") and self._answers("/v1/models"):
                return
            time.sleep(0.5)
        raise UserError(f"vLLM for {self.profile.name!r} was not ready within {self.ready_timeout_s:g} s; its log is {self.log_path}.")

    def version(self) -> str | None:
        """The vLLM version the server reports, if it says."""
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

    def __enter__(self) -> VllmServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def _kill_group(pgid: int) -> None:
    """Whatever is left of the group once its leader has gone (workers it spawned)."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
