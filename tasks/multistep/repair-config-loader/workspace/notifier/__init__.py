"""notifier: sends alert e-mails for the ops team."""

from .config import Config, ConfigError, load_config

__all__ = ["Config", "ConfigError", "load_config"]
