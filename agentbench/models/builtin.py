"""Built-in baseline models, `oracle`, `noop` and `redteam`, served over real HTTP.

They exist to prove tasks and measure the harness, not to compete: `oracle` replays the
task's reference solution through the agent's own tools (a patch is applied with git, a script
is run), `noop` submits at once, `redteam` plays one reward hack per epoch
(agentbench.models.redteam). None runs a tokenizer, so all report zero tokens.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import quote, unquote

from agentbench.models.chat_server import ChatServer, Reply, ToolCall
from agentbench.models.redteam import attack_for, attack_plan

PATCH_FILE = "/tmp/oracle.patch"
APPLY = f"git apply --whitespace=nowarn {PATCH_FILE} && rm -f {PATCH_FILE} && git status --short"
SCRIPT_FILE = "/tmp/oracle-solution.sh"
RUN_SCRIPT = f"bash {SCRIPT_FILE}; status=$?; rm -f {SCRIPT_FILE}; exit $status"


class BuiltinModels:
    """One HTTP server for the baselines; each attempt gets its own route (…/tasks/<id>/epochs/<n>/v1)."""

    def __init__(self, solutions: dict[str, str | None], reached_at: str | None = None):
        """`reached_at`: the address other machines reach this one at, when attempts run there
        (the server then listens on every interface); else it listens on 127.0.0.1 only."""
        self.solutions = solutions
        self.reached_at = reached_at
        self.server = ChatServer(self.respond, model_ids=("oracle", "noop", "redteam"),
                                 host="0.0.0.0" if reached_at else "127.0.0.1")

    def base_url(self, task_id: str, epoch: int = 0) -> str:
        root = f"http://{self.reached_at}:{self.server.port}" if self.reached_at else self.server.root
        return f"{root}/tasks/{quote(task_id, safe='/')}/epochs/{epoch}/v1"

    def respond(self, request: dict, route: str) -> Reply:
        """The baseline's reply; baselines run no tokenizer, so they count no tokens."""
        task, _, epoch = route.removeprefix("tasks/").rpartition("/epochs/")
        if request.get("model") == "oracle":
            reply = oracle_reply(request, self.solutions.get(unquote(task)))
        elif request.get("model") == "redteam":
            reply = redteam_reply(request, int(epoch or 0))
        else:
            reply = noop_reply(request)
        return replace(reply, prompt_tokens=0, completion_tokens=0)

    def __enter__(self) -> BuiltinModels:
        self.server.start()
        return self

    def __exit__(self, *exc) -> None:
        self.server.stop()


def tool_names(request: dict) -> list[str]:
    return [tool["function"]["name"] for tool in request.get("tools") or []]


def calls_made(request: dict) -> list[str]:
    """The names of the tool calls the model has made so far in this conversation."""
    return [call["function"]["name"] for message in request.get("messages", []) if message.get("role") == "assistant"
            for call in message.get("tool_calls") or []]


def _finish(offered: list[str], evidence: str) -> Reply:
    """What a baseline says once its own actions are done: pass a verification if asked, else stop."""
    if "verdict" in offered:
        return Reply(tool_calls=[ToolCall("verdict", {"passed": True, "evidence": evidence})])
    return Reply(content="Done.")


def noop_reply(request: dict) -> Reply:
    offered = tool_names(request)
    if "submit" in offered and "submit" not in calls_made(request):
        return Reply(tool_calls=[ToolCall("submit", {})])
    return _finish(offered, "nothing was changed")


def replay(solution: str) -> tuple[str, str]:
    """Where the oracle writes a reference solution and the command that then applies it: a
    script (its first line `#!`) is run, anything else is a patch for `git apply`."""
    return (SCRIPT_FILE, RUN_SCRIPT) if solution.startswith("#!") else (PATCH_FILE, APPLY)


def oracle_plan(patch: str, tools: list[str]) -> list[ToolCall]:
    """The tool calls that apply `patch` (or run the solution script) with whichever tools the
    agent offers, then submit."""
    if not patch.endswith("\n"):
        patch += "\n"
    path, command = replay(patch)
    if "create_file" in tools:
        calls = [ToolCall("create_file", {"path": path, "content": patch}), ToolCall("bash", {"command": command})]
    else:
        heredoc = f"cat > {path} <<'ORACLE_PATCH_EOF'\n{patch}ORACLE_PATCH_EOF\n{command}"
        calls = [ToolCall("bash", {"command": heredoc})]
    if "submit" in tools:
        calls.append(ToolCall("submit", {}))
    return calls


def redteam_reply(request: dict, epoch: int) -> Reply:
    """The next call of the epoch's attack; in a phase without tools (planning), it names it."""
    offered = tool_names(request)
    if not offered:
        return Reply(content=f"Plan: {attack_for(epoch)}.")
    plan, done = attack_plan(epoch, offered), len(calls_made(request))
    if done < len(plan):
        return Reply(tool_calls=[plan[done]])
    return _finish(offered, "the tests pass")


def oracle_reply(request: dict, patch: str | None) -> Reply:
    """The next call of the oracle's plan; in a phase without tools (planning), it says what it will do."""
    if patch is None:
        return Reply(content="This task ships no reference solution.")
    offered = tool_names(request)
    if not offered:
        return Reply(content="Plan: 1. apply the reference solution. 2. submit.")
    plan = oracle_plan(patch, offered)
    done = len(calls_made(request))
    if done < len(plan):
        return Reply(tool_calls=[plan[done]])
    return _finish(offered, "the reference solution is applied")
