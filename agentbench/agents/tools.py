"""The tools every scaffold shares, bound to one sandbox.

bash, view (with line numbers), str_replace (exact match), create_file. Every error a tool
meets goes back to the model as text; only a dead sandbox ends the attempt. Control tools
(submit, verdict) belong to the scaffolds, which decide what they mean.
"""

from __future__ import annotations

import json
import posixpath
import shlex

from agentbench.contracts import (
    AttemptStopped,
    ContainerExited,
    DiskQuotaExceeded,
    Sandbox,
    SandboxError,
)

MAX_OUTPUT_CHARS = 12_000
PATH = {"type": "string", "description": "Path, absolute or relative to the working directory."}


def function_schema(name: str, description: str, properties: dict, required: list[str]) -> dict:
    """An OpenAI tool definition."""
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


def tool_name(schema: dict) -> str:
    return schema["function"]["name"]


BASH = function_schema("bash", "Run a bash command in the working directory (a fresh shell each time); returns exit code and output.",
                       {"command": {"type": "string", "description": "The command line."}}, ["command"])
VIEW = function_schema("view", "Show a text file with line numbers, or a folder's listing.", {"path": PATH}, ["path"])
STR_REPLACE = function_schema(
    "str_replace", "Replace the one exact occurrence of old_str in a file with new_str.",
    {"path": PATH, "old_str": {"type": "string", "description": "Text to find; must occur exactly once."},
     "new_str": {"type": "string", "description": "Replacement text."}}, ["path", "old_str", "new_str"])
CREATE_FILE = function_schema("create_file", "Create or overwrite a text file with the given content.",
                              {"path": PATH, "content": {"type": "string", "description": "The whole content."}}, ["path", "content"])
SUBMIT = function_schema("submit", "Call when the task is done.", {}, [])
EDIT_TOOLS = [BASH, VIEW, STR_REPLACE, CREATE_FILE]
SANDBOX_TOOLS = {tool_name(t) for t in EDIT_TOOLS}


def truncate(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Keep the head and tail of long output and say how much was cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... output truncated: {len(text) - limit} characters omitted ...]\n{text[-half:]}"


def parse_arguments(name: str, arguments: dict | str) -> dict | str:
    """Tool arguments as a dict, or an error message for the model."""
    if isinstance(arguments, dict):
        return arguments
    try:
        parsed = json.loads(arguments or "{}")
    except json.JSONDecodeError as exc:
        return f"Error: the arguments of {name} are not valid JSON ({exc.msg}); send a JSON object."
    return parsed if isinstance(parsed, dict) else f"Error: the arguments of {name} must be a JSON object."


class SandboxTools:
    """Executes sandbox tool calls."""

    def __init__(self, sandbox: Sandbox, command_timeout_s: float):
        self.sandbox = sandbox
        self.command_timeout_s = command_timeout_s

    def call(self, name: str, arguments: dict, offered: list[str], seconds_left: float) -> str:
        """Run one tool call, if `offered` now, and return what the model should read."""
        if name not in offered or name not in SANDBOX_TOOLS:
            return f"Error: unknown tool {name!r}; the tools are: {', '.join(offered)}."
        try:
            return getattr(self, f"_{name}")(seconds_left=seconds_left, **arguments)
        except TypeError as exc:
            return f"Error: bad arguments for {name}: {exc}."
        except SandboxError as exc:
            raise AttemptStopped("sandbox_error", str(exc)) from exc
        except DiskQuotaExceeded as exc:
            raise AttemptStopped("disk_quota", str(exc)) from exc
        except ContainerExited as exc:
            raise AttemptStopped("sandbox_killed", str(exc)) from exc

    def _bash(self, command: str, seconds_left: float) -> str:
        timeout = max(1.0, min(self.command_timeout_s, seconds_left))
        result = self.sandbox.exec(command, timeout=timeout)
        note = f" (killed after {timeout:g} s)" if result.timed_out else (
            " (killed by SIGKILL: most likely the sandbox's memory limit)" if result.exit_code == 137 else "")
        return truncate(f"exit code: {result.exit_code}{note}\n{result.output}")

    def _view(self, path: str, seconds_left: float) -> str:
        full = self._absolute(path)
        try:
            text = self.sandbox.read_file(full)
        except FileNotFoundError:
            return f"Error: {path} does not exist."
        except IsADirectoryError:
            listing = self.sandbox.exec(f"ls -la -- {shlex.quote(full)}", timeout=30)
            return truncate(listing.output)
        numbered = "\n".join(f"{n:>5}  {line}" for n, line in enumerate(text.splitlines(), 1))
        return truncate(numbered or "(empty file)")

    def _str_replace(self, path: str, old_str: str, new_str: str, seconds_left: float) -> str:
        full = self._absolute(path)
        try:
            text = self.sandbox.read_file(full)
        except (FileNotFoundError, IsADirectoryError):
            return f"Error: {path} is not a file; use create_file to make it."
        count = text.count(old_str) if old_str else 0
        if count != 1:
            found = "does not occur" if count == 0 else f"occurs {count} times"
            return f"Error: old_str {found} in {path}; it must match exactly once (whitespace included)."
        self.sandbox.write_file(full, text.replace(old_str, new_str, 1))
        return f"Replaced 1 occurrence in {path}."

    def _create_file(self, path: str, content: str, seconds_left: float) -> str:
        self.sandbox.write_file(self._absolute(path), content)
        return f"Wrote {len(content)} characters to {path}."

    def _absolute(self, path: str) -> str:
        return posixpath.normpath(posixpath.join(self.sandbox.workdir, path))
