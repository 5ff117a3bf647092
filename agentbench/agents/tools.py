"""Tools bound to one sandbox: bash, read_file, write_file, submit.

Every error a tool meets goes back to the model as text; only `submit` and a dead sandbox
end the attempt.
"""

from __future__ import annotations

import json
import posixpath

from agentbench.agents.base import AttemptStopped
from agentbench.sandbox import Sandbox, SandboxError

WORKDIR = "/workspace"
MAX_OUTPUT_CHARS = 12_000


def _function(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {"type": "object", "properties": properties, "required": required},
        },
    }


TOOL_SCHEMAS = [
    _function("bash", "Run a bash command in /workspace; returns exit code and output.",
              {"command": {"type": "string", "description": "The command line."}}, ["command"]),
    _function("read_file", "Read a text file, with line numbers.",
              {"path": {"type": "string", "description": "Path, absolute or relative to /workspace."}}, ["path"]),
    _function("write_file", "Create or overwrite a text file with the given content.",
              {"path": {"type": "string", "description": "Path, absolute or relative to /workspace."},
               "content": {"type": "string", "description": "The whole new content."}}, ["path", "content"]),
    _function("submit", "Call when the task is done; ends the attempt.", {}, []),
]


def truncate(text: str, limit: int = MAX_OUTPUT_CHARS) -> str:
    """Keep the head and tail of long output and say how much was cut."""
    if len(text) <= limit:
        return text
    half = limit // 2
    return f"{text[:half]}\n[... output truncated: {len(text) - limit} characters omitted ...]\n{text[-half:]}"


class SandboxTools:
    """Executes the model's tool calls inside one sandbox."""

    def __init__(self, sandbox: Sandbox, command_timeout_s: float):
        self.sandbox = sandbox
        self.command_timeout_s = command_timeout_s

    def call(self, name: str, arguments: dict | str, seconds_left: float) -> str:
        """Run one tool call and return what the model should read."""
        if isinstance(arguments, str):
            try:
                arguments = json.loads(arguments or "{}")
            except json.JSONDecodeError as exc:
                return f"Error: the arguments of {name} are not valid JSON ({exc.msg}); send a JSON object."
        handler = getattr(self, f"_tool_{name}", None)
        if handler is None:
            known = ", ".join(t["function"]["name"] for t in TOOL_SCHEMAS)
            return f"Error: unknown tool {name!r}; the tools are: {known}."
        try:
            return handler(seconds_left=seconds_left, **arguments)
        except TypeError as exc:
            return f"Error: bad arguments for {name}: {exc}."
        except SandboxError as exc:
            raise AttemptStopped("sandbox_error", str(exc)) from exc

    def _tool_bash(self, command: str, seconds_left: float) -> str:
        timeout = max(1.0, min(self.command_timeout_s, seconds_left))
        result = self.sandbox.exec(command, timeout=timeout, cwd=WORKDIR)
        note = f" (killed after {timeout:g} s)" if result.timed_out else ""
        return truncate(f"exit code: {result.exit_code}{note}\n{result.output}")

    def _tool_read_file(self, path: str, seconds_left: float) -> str:
        try:
            text = self.sandbox.read_file(_absolute(path))
        except (FileNotFoundError, IsADirectoryError) as exc:
            return f"Error: {path} is not a readable file ({exc.__class__.__name__})."
        numbered = "\n".join(f"{n:>5}  {line}" for n, line in enumerate(text.splitlines(), 1))
        return truncate(numbered or "(empty file)")

    def _tool_write_file(self, path: str, content: str, seconds_left: float) -> str:
        self.sandbox.write_file(_absolute(path), content)
        return f"Wrote {len(content)} characters to {path}."

    def _tool_submit(self, seconds_left: float, **_ignored) -> str:
        raise AttemptStopped("submitted")


def _absolute(path: str) -> str:
    return posixpath.normpath(posixpath.join(WORKDIR, path))
