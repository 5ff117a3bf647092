"""Build alert messages from templates."""

from __future__ import annotations

from email.message import EmailMessage

from notifier.config import Config
from notifier.helpers import expand_path


def render_template(config: Config, name: str, **values: str) -> str:
    """Fill `<template_dir>/<name>.txt` using str.format-style placeholders."""
    template = expand_path(config.template_dir) / f"{name}.txt"
    return template.read_text(encoding="utf-8").format(**values)


def build_message(config: Config, subject: str, body: str) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = config.sender
    msg["To"] = ", ".join(config.recipients)
    msg["Subject"] = subject
    msg.set_content(body)
    return msg
