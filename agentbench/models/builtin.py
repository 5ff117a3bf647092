"""Built-in baseline models, `oracle` and `noop`, served over real HTTP.

They exist to prove tasks and measure the harness, not to compete: `oracle` replays the
task's reference solution through the agent's own tools, `noop` submits at once. Neither
runs a tokenizer, so both report zero tokens.
"""

from __future__ import annotations

from urllib.parse import quote, unquote

from agentbench.models.chat_server import ChatServer, Reply, ToolCall

PATCH_FILE = "/tmp/oracle.patch"
APPLY = f"git apply --whitespace=nowarn {PATCH_FILE} && rm -f {PATCH_FILE} && git status --short"


class BuiltinModels:
    """One HTTP server for both baselines; each task gets its own route (…/tasks/<id>/v1)."""

    def __init__(self, solutions: dict[str, str | None]):
        self.solutions = solutions
        self.server = ChatServer(self.respond, model_ids=("oracle", "noop"))

    def base_url(self, task_id: str) -> str:
        return f"{self.server.root}/tasks/{quote(task_id, safe='/')}/v1"

    def respond(self, request: dict, route: str) -> Reply:
        if request.get("model") == "oracle":
            task_id = unquote(route.removeprefix("tasks/"))
            return oracle_reply(request, self.solutions.get(task_id))
        return noop_reply(request)

    def __enter__(self) -> BuiltinModels:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()


def tool_names(request: dict) -> list[str]:
    return [tool["function"]["name"] for tool in request.get("tools") or []]


def turns_taken(request: dict) -> int:
    """How many times the model has answered in this conversation so far."""
    return sum(1 for message in request.get("messages", []) if message.get("role") == "assistant")


def noop_reply(request: dict) -> Reply:
    if "submit" in tool_names(request) and turns_taken(request) == 0:
        return Reply(tool_calls=[ToolCall("submit", {})])
    return Reply(content="Nothing to do.")


def oracle_plan(patch: str, tools: list[str]) -> list[ToolCall]:
    """The tool calls that apply `patch` with whichever tools the agent offers, then submit."""
    if not patch.endswith("\n"):
        patch += "\n"
    if "write_file" in tools:
        calls = [ToolCall("write_file", {"path": PATCH_FILE, "content": patch}), ToolCall("bash", {"command": APPLY})]
    else:
        heredoc = f"cat > {PATCH_FILE} <<'ORACLE_PATCH_EOF'\n{patch}ORACLE_PATCH_EOF\n{APPLY}"
        calls = [ToolCall("bash", {"command": heredoc})]
    if "submit" in tools:
        calls.append(ToolCall("submit", {}))
    return calls


def oracle_reply(request: dict, patch: str | None) -> Reply:
    if patch is None:
        return Reply(content="This task ships no reference solution.")
    plan = oracle_plan(patch, tool_names(request))
    turn = turns_taken(request)
    return Reply(tool_calls=[plan[turn]]) if turn < len(plan) else Reply(content="Done.")
