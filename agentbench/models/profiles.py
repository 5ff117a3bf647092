"""Model profiles: loaded from the shipped YAML plus a user file, validated on load."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from agentbench.errors import UserError, field_problem

SHIPPED = Path(__file__).with_name("profiles.yaml")


class Prices(BaseModel):
    """What a model costs: per million tokens for APIs, per GPU-hour for self-hosted."""

    model_config = ConfigDict(extra="forbid")

    input_per_mtok: float | None = Field(None, ge=0, description="USD per million prompt tokens.")
    cached_input_per_mtok: float | None = Field(None, ge=0, description="USD per million cached prompt tokens.")
    output_per_mtok: float | None = Field(None, ge=0, description="USD per million completion tokens.")
    gpu_hour: float | None = Field(None, ge=0, description="USD per GPU-hour (self-hosted).")
    gpus: int | None = Field(None, gt=0, description="GPUs the server uses (self-hosted).")
    date: str | None = Field(None, description="When these prices were taken.")


class ModelProfile(BaseModel):
    """One way of reaching a model: provider, model id, endpoint, key variable, prices."""

    model_config = ConfigDict(extra="forbid")

    name: str
    provider: Literal["builtin", "openai", "vllm"] = Field(description="How the model is reached.")
    model: str | None = Field(None, description="Model id sent in requests.")
    model_env: str | None = Field(None, description="Variable holding the model id, when not fixed.")
    base_url: str | None = Field(None, description="OpenAI-compatible base URL (…/v1).")
    base_url_env: str | None = Field(None, description="Variable holding the base URL, when not fixed.")
    api_key_env: str | None = Field(None, description="NAME of the variable holding the API key.")
    server_args: dict = Field(default_factory=dict, description="vLLM server settings.")
    sampling: dict = Field(default_factory=lambda: {"temperature": 0.0}, description="Sampling settings.")
    prices: Prices = Field(default_factory=Prices, description="Prices, with their date.")
    context_window: int | None = Field(None, gt=0, description="Tokens the model reads at most (default: server_args.max_model_len).")
    max_connections: int = Field(8, gt=0, description="Concurrent requests allowed to this endpoint.")
    request_timeout_s: float = Field(300, gt=0, description="Seconds one model call may take.")
    baseline: bool = Field(False, description="A built-in baseline, not a real model.")
    description: str = ""

    @property
    def label(self) -> str:
        """The name as reports show it: baselines are marked as such."""
        return f"{self.name} (baseline)" if self.baseline else self.name

    def context_tokens(self) -> int | None:
        """The context window, from the profile or the vLLM server's max_model_len."""
        return self.context_window or self.server_args.get("max_model_len")

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
    profiles = _read(SHIPPED)
    user_file = user_file or os.environ.get("AGENTBENCH_MODELS")
    if user_file:
        path = Path(user_file)
        if not path.is_file():
            raise UserError(f"Model profiles file {path} does not exist (--models-file / AGENTBENCH_MODELS).")
        profiles.update(_read(path))
    return profiles


def get_profile(name: str, profiles: dict[str, ModelProfile]) -> ModelProfile:
    """A profile by name, or a sentence listing the known ones."""
    if name not in profiles:
        raise UserError(f"Unknown model profile {name!r}; known: {', '.join(sorted(profiles))} (see `agentbench models`).")
    return profiles[name]


def _read(path: Path) -> dict[str, ModelProfile]:
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise UserError(f"{path} is not valid YAML: {exc}") from None
    if not isinstance(raw, dict):
        raise UserError(f"{path} must map profile names to their settings.")
    profiles = {}
    for name, fields in raw.items():
        try:
            profiles[name] = ModelProfile.model_validate({**(fields or {}), "name": name})
        except ValidationError as exc:
            raise UserError(f"{path}: profile {name!r}, {field_problem(exc)}.") from None
    return profiles
