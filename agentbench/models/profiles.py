"""Model profiles: loaded from the shipped YAML plus a user file, validated on load."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_serializer

from agentbench.errors import UserError, field_problem

SHIPPED = Path(__file__).with_name("profiles.yaml")


class Prices(BaseModel):
    """What a model costs: per million tokens for APIs, per GPU-hour for self-hosted."""

    model_config = ConfigDict(extra="forbid")

    input_per_mtok: float | None = Field(None, ge=0, description="USD per million prompt tokens.")
    cached_input_per_mtok: float | None = Field(None, ge=0, description="USD per million cached prompt tokens.")
    output_per_mtok: float | None = Field(None, ge=0, description="USD per million completion tokens.")
    gpu_hour: float | None = Field(None, ge=0, description="USD per GPU-hour (self-hosted by vLLM).")
    machine_hour: float | None = Field(None, ge=0, description="USD per hour of the machine serving a local model (llama.cpp).")
    date: str | None = Field(None, description="When these prices were taken.")


class ServerArgs(BaseModel):
    """How vLLM serves a self-hosted model; each field becomes a `vllm serve` flag."""

    model_config = ConfigDict(extra="forbid")

    tensor_parallel_size: int = Field(1, gt=0, description="GPUs the model is split across.")
    max_model_len: int | None = Field(None, gt=0, description="Longest prompt plus reply, in tokens.")
    quantization: str | None = Field(None, description="Weight quantization (fp8, awq, gptq, ...).")
    speculative_config: dict | None = Field(None, description="vLLM's speculative decoding settings.")
    enable_prefix_caching: bool = Field(True, description="Reuse the KV cache of shared prompt prefixes.")
    tool_call_parser: str | None = Field(None, description="vLLM's tool-call parser for the model family.")
    chat_template: str | None = Field(None, description="A chat template file, where the model's own lacks tools.")
    gpu_memory_utilization: float | None = Field(None, gt=0, le=1, description="Share of GPU memory vLLM may take.")
    dtype: str | None = Field(None, description="Weight dtype (auto, bfloat16, ...).")
    extra_args: list[str] = Field(default_factory=list, description="Further `vllm serve` arguments, verbatim.")


class LocalServer(BaseModel):
    """How llama.cpp serves a local GGUF model whose weights come from an installed package."""

    model_config = ConfigDict(extra="forbid")

    package: str = Field(description="The Python package that ships the GGUF file.")
    file: str | None = Field(None, description="The GGUF file's path inside the package.")
    assemble: str | None = Field(None, description="Instead of `file`: the package's function that writes the file and returns its path.")
    chat_format: str = Field("chatml-function-calling", description="llama-cpp-python's chat format (tool calls need a function-calling one).")
    n_ctx: int = Field(8192, gt=0, description="Context window the server allocates, in tokens.")
    n_threads: int | None = Field(None, gt=0, description="CPU threads (default: llama.cpp's choice).")


class RetryPolicy(BaseModel):
    """How rate limits, 5xx answers and dropped connections are retried."""

    model_config = ConfigDict(extra="forbid")

    attempts: int = Field(6, gt=0, description="Tries per call, the first included.")
    initial_wait_s: float = Field(1.0, ge=0, description="Scale of the jittered exponential backoff.")
    max_wait_s: float = Field(30.0, ge=0, description="Ceiling on one wait.")


class Sampling(BaseModel):
    """How replies are sampled: the OpenAI request's own settings, checked, and `extra` for what
    only some servers read (top_k, min_p, repetition_penalty), sent in the request body as given."""

    model_config = ConfigDict(extra="forbid")

    temperature: float | None = Field(0.0, ge=0, le=2, description="Randomness; 0 is greedy.")
    top_p: float | None = Field(None, gt=0, le=1, description="Nucleus sampling mass.")
    seed: int | None = Field(None, description="Seed, where the server honours one.")
    presence_penalty: float | None = Field(None, ge=-2, le=2, description="Penalty on tokens already present.")
    frequency_penalty: float | None = Field(None, ge=-2, le=2, description="Penalty by how often a token appeared.")
    stop: list[str] | None = Field(None, description="Sequences that end a reply.")
    extra: dict = Field(default_factory=dict, description="Server-specific settings, sent verbatim in the request body.")

    @model_serializer(mode="wrap")
    def _only_set(self, handler) -> dict:
        """Only the settings given, as a profile file would say them (and lock records store them)."""
        return {key: value for key, value in handler(self).items() if value is not None and value != {}}

    def request_fields(self) -> dict:
        """The OpenAI settings that are set, by name."""
        return {key: value for key, value in self.model_dump().items() if key != "extra"}


class ModelProfile(BaseModel):
    """One way of reaching a model: provider, model id, endpoint, key variable, prices."""

    model_config = ConfigDict(extra="forbid")

    name: str
    extends: str | None = Field(None, description="The profile this one varies; its fields are the defaults.")
    provider: Literal["builtin", "openai", "vllm", "llamacpp"] = Field(description="How the model is reached.")
    model: str | None = Field(None, description="Model id sent in requests.")
    model_env: str | None = Field(None, description="Variable holding the model id, when not fixed.")
    base_url: str | None = Field(None, description="OpenAI-compatible base URL (…/v1).")
    base_url_env: str | None = Field(None, description="Variable holding the base URL, when not fixed.")
    api_key_env: str | None = Field(None, description="NAME of the variable holding the API key.")
    server_args: ServerArgs = Field(default_factory=ServerArgs, description="vLLM server settings.")
    local: LocalServer | None = Field(None, description="llama.cpp server settings (provider llamacpp).")
    sampling: Sampling = Field(default_factory=Sampling, description="Sampling settings.")
    prices: Prices = Field(default_factory=Prices, description="Prices, with their date.")
    context_window: int | None = Field(None, gt=0, description="Tokens the model reads at most (default: server_args.max_model_len).")
    max_connections: int = Field(8, gt=0, description="Concurrent requests allowed to this endpoint.")
    request_timeout_s: float = Field(300, gt=0, description="Seconds one model call may take.")
    max_tokens: int | None = Field(4096, gt=0, description="Tokens one reply may have at most (sent as max_tokens).")
    retry: RetryPolicy = Field(default_factory=RetryPolicy, description="Retries of failed calls.")
    stream: bool = Field(True, description="Stream replies (time to first token is measured).")
    baseline: bool = Field(False, description="A built-in baseline, not a real model.")
    description: str = ""

    @property
    def label(self) -> str:
        """The name as reports show it: baselines are marked as such."""
        return f"{self.name} (baseline)" if self.baseline else self.name

    def context_tokens(self) -> int | None:
        """The context window, from the profile, the vLLM server's max_model_len or llama.cpp's n_ctx."""
        return self.context_window or self.server_args.max_model_len or (self.local.n_ctx if self.local else None)

    @property
    def gpus(self) -> int | None:
        """GPUs a self-hosted server takes; None for APIs and baselines."""
        return self.server_args.tensor_parallel_size if self.provider == "vllm" else None

    def resolved_model(self) -> str:
        """The model id, from the profile or its variable."""
        value = self.model or (os.environ.get(self.model_env) if self.model_env else None)
        if not value:
            raise UserError(f"Model profile {self.name!r} needs a model id: set {self.model_env or 'model'}.")
        return value

    def resolved_base_url(self, override: str | None = None) -> str | None:
        """The base URL: an explicit override, the profile's, or its variable's."""
        return override or self.base_url or (os.environ.get(self.base_url_env) if self.base_url_env else None)

    def api_key(self) -> str:
        """The API key from the named variable ('none' for servers that ignore it)."""
        if not self.api_key_env:
            return "none"
        value = os.environ.get(self.api_key_env)
        if not value:
            raise UserError(f"Model profile {self.name!r} reads its API key from ${self.api_key_env}, which is not set.")
        return value


def load_profiles(user_file: str | Path | None = None) -> dict[str, ModelProfile]:
    """The shipped profiles, extended (and overridden) by a user file or AGENTBENCH_MODELS."""
    raw = {name: (SHIPPED, fields) for name, fields in _read(SHIPPED).items()}
    user_file = user_file or os.environ.get("AGENTBENCH_MODELS")
    if user_file:
        path = Path(user_file)
        if not path.is_file():
            raise UserError(f"Model profiles file {path} does not exist (--models-file / AGENTBENCH_MODELS).")
        raw.update({name: (path, fields) for name, fields in _read(path).items()})
    profiles = {}
    for name, (path, _) in raw.items():
        try:
            profiles[name] = ModelProfile.model_validate({**_resolved(name, raw, ()), "name": name})
        except ValidationError as exc:
            raise UserError(f"{path}: profile {name!r}, {field_problem(exc)}.") from None
    return profiles


def get_profile(name: str, profiles: dict[str, ModelProfile]) -> ModelProfile:
    """A profile by name, or a sentence listing the known ones."""
    if name not in profiles:
        raise UserError(f"Unknown model profile {name!r}; known: {', '.join(sorted(profiles))} (see `agentbench models`).")
    return profiles[name]


def merge(base: dict, override: dict) -> dict:
    """`override` laid over `base`; nested mappings are merged key by key."""
    merged = dict(base)
    for key, value in override.items():
        merged[key] = merge(merged[key], value) if isinstance(value, dict) and isinstance(merged.get(key), dict) else value
    return merged


def _resolved(name: str, raw: dict[str, tuple[Path, dict]], chain: tuple[str, ...]) -> dict:
    """A profile's fields with those of the profiles it extends filled in."""
    path, fields = raw[name]
    parent = fields.get("extends")
    if parent is None:
        return fields
    if parent in chain or parent == name:
        raise UserError(f"{path}: profile {name!r} extends itself through {' -> '.join((*chain, name, parent))}.")
    if parent not in raw:
        raise UserError(f"{path}: profile {name!r} extends {parent!r}, which no profiles file defines.")
    inherited = {key: value for key, value in _resolved(parent, raw, (*chain, name)).items() if key not in ("baseline", "description")}
    return merge(inherited, fields)


def _read(path: Path) -> dict[str, dict]:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict) or not all(isinstance(fields or {}, dict) for fields in raw.values()):
        raise UserError(f"{path} must map profile names to their settings.")
    return {str(name): fields or {} for name, fields in raw.items()}
