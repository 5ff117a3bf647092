"""Scanning an attempt for look-ups that could reach the answer: the repository's other history
(every ref, the reflog, all objects, a commit by hash) and the network (HTTP clients, fetching
from a remote, GitHub). A flag marks an attempt for a person to read; it does not change the verdict.

Two sources are read: the text of every tool call (commands and the files the agent wrote,
so a Python script calling urllib counts), and what git itself ran in the sandbox (its trace,
switched on before the agent starts), so `g=git; $g log --all` or git started from Python is
seen however it was spelled.
"""

from __future__ import annotations

import re

GIT_TRACE_PATH = "/var/log/agentbench-git.trace"
TRACE_SETUP = f"git config --system trace2.normalTarget {GIT_TRACE_PATH}"

_ARG_GAP = r"""[^|;&\n]*?[\s"',]"""  # between a git verb and its flag: in a shell line or a Python list
HISTORY = re.compile(
    rf"\b(?:log|rev-list|shortlog|whatchanged|show-branch){_ARG_GAP}--(?:all|branches|remotes|tags|reflog|glob)\b"
    r"|\breflog\b|--batch-all-objects\b|\bfsck\b[^|;&\n]*--(?:lost-found|unreachable|dangling)"
    r"|\bgit\b[^|;&\n]*\b(?:show|cat-file)\b[^|;&\n]*\b[0-9a-f]{7,40}\b"
)
NETWORK = re.compile(
    r"\b(?:curl|wget|aria2c|httpie)\b[^|;&\n]*\b(?:https?|ftp)://"
    r"|\b(?:urlopen|urlretrieve|Request|requests\.\w+|httpx\.\w+|HTTPS?Connection)\s*\([^\n]*(?:https?|ftp)://"
    r"|\bsocket\.create_connection\b|\bgit\b[^|;&\n]*\b(?:clone|fetch|pull|ls-remote)\b"
    r"|\bpip3?\s+download\b|\bgithub\.com\b|\bapi\.github\b"
)
FLAGS = {"history_lookup": HISTORY, "network_lookup": NETWORK}


def lookup_flags(tool_calls: list[dict], ran: list[str] = ()) -> list[str]:
    """The kinds of look-up these tool calls ({"name", "args"}, as steps record them) and these
    commands that ran (git's trace) made, in FLAGS order."""
    texts = [value for call in tool_calls for value in _strings(call.get("args"))] + list(ran)
    return [flag for flag, pattern in FLAGS.items() if any(pattern.search(text) for text in texts)]


def traced_git_commands(trace: str | None) -> list[str]:
    """The git command lines a trace2 normal-format log records (`... start git log --all`)."""
    return [match.group(1) for match in re.finditer(r"(?m)^\S+\s+\S+\s+start (.+)$", trace or "")]


def _strings(arguments) -> list[str]:
    if isinstance(arguments, str):
        return [arguments]
    if isinstance(arguments, dict):
        return [text for value in arguments.values() for text in _strings(value)]
    if isinstance(arguments, list):
        return [text for value in arguments for text in _strings(value)]
    return []
