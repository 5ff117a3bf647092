"""vLLM: the `vllm serve` command of a profile, whether this machine can run it, its server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

from agentbench.errors import UserError
from agentbench.models.profiles import ModelProfile
from agentbench.models.server_process import ServerProcess, free_port

INSTALL_HINT = "install it with `pip install 'agentbench[serve]'` on a GPU machine"


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


class VllmServer(ServerProcess):
    """`vllm serve` for a profile, in its own process group, its output in `log_path`."""

    def __init__(self, profile: ModelProfile, log_path: Path, executable: str, port: int | None = None,
                 host: str = "127.0.0.1", ready_timeout_s: float = 1800):
        port = port or free_port()
        super().__init__(f"vLLM for {profile.name!r}", serve_command(profile, host, port, executable), log_path, host, port,
                         ready_timeout_s)
        self.profile = profile
