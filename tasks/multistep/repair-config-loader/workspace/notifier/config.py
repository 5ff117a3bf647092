"""Load the notifier configuration file (TOML, see README.md)."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass
from pathlib import Path

from notifier.helpers import expand_path

DEFAULT_PORT = 587


class ConfigError(Exception):
    """The configuration file is missing, unreadable or invalid."""


@dataclass(frozen=True)
class Config:
    host: str
    port: int
    use_tls: bool
    sender: str
    recipients: tuple[str, ...]
    max_attempts: int
    backoff_seconds: float
    template_dir: Path


def _require(section: dict, name: str, key: str):
    if key not in section:
        raise ConfigError(f"missing required setting {name}.{key}")
    return section[key]


def load_config(path: str | Path) -> Config:
    path = Path(path)
    with open(path) as fh:
        data = tomllib.load(fh)

    email = data["smtp"]
    retry = data["retries"]
    templates = data.get("templates", {})

    recipients = _require(email, "email", "to")
    if isinstance(recipients, str):
        recipients = [recipients]

    return Config(
        host=_require(email, "email", "host"),
        port=email.get("port", DEFAULT_PORT),
        use_tls=email.get("use_tls", True),
        sender=_require(email, "email", "from"),
        recipients=tuple(recipients),
        max_attempts=retry["max_attempts"],
        backoff_seconds=float(retry.get("backoff_seconds", 1.0)),
        template_dir=expand_path(templates.get("dir", "templates"), base=path.parent),
    )
