"""Scanning an attempt's tool calls for look-ups that could reach the answer: the repository's
other history (git log --all, git show of a hash, reflog) and the network (curl or wget,
fetching from GitHub). A flag marks an attempt for a person to read; it does not change the verdict."""

from __future__ import annotations

import re

HISTORY = re.compile(
    r"\bgit\b[^|;&\n]*\b(?:log\b[^|;&\n]*\s--(?:all|branches|remotes|tags|reflog)\b"
    r"|reflog\b"
    r"|(?:show|cat-file)\b[^|;&\n]*\b[0-9a-f]{7,40}\b)"
)
NETWORK = re.compile(
    r"\b(?:curl|wget)\b[^|;&\n]*\b(?:https?|ftp)://"
    r"|\bgit\b[^|;&\n]*\b(?:clone|fetch|pull|ls-remote)\b"
    r"|\bgithub\.com\b"
)
FLAGS = {"history_lookup": HISTORY, "network_lookup": NETWORK}


def lookup_flags(tool_calls: list[dict]) -> list[str]:
    """The kinds of look-up these tool calls ({"name", "args"}, as steps record them) made, in FLAGS order."""
    texts = [value for call in tool_calls for value in _strings(call.get("args"))]
    return [flag for flag, pattern in FLAGS.items() if any(pattern.search(text) for text in texts)]


def _strings(arguments) -> list[str]:
    if isinstance(arguments, str):
        return [arguments]
    if isinstance(arguments, dict):
        return [text for value in arguments.values() for text in _strings(value)]
    if isinstance(arguments, list):
        return [text for value in arguments for text in _strings(value)]
    return []
