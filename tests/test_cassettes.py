"""Real replies of SmolLM2 135M (recorded once by tests/test_real_model.py with
AGENTBENCH_RECORD_CASSETTES=tests/cassettes) replayed through every scaffold: what the real
model emitted must still lead each scaffold to the same steps, problems and stop reason."""

from __future__ import annotations

import json
from pathlib import Path

from test_real_model import outcomes, run_real

from agentbench.models.cassette import Replay, conversation_key, reply_from
from agentbench.models.chat_server import ChatServer
from agentbench.models.profiles import load_profiles

CASSETTES = Path(__file__).parent / "cassettes"


def test_a_recorded_reply_plays_back_as_it_came():
    body = {"choices": [{"message": {"content": "hi", "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "bash", "arguments": '{"command": "ls"'}}]},
        "finish_reason": "length"}], "usage": {"prompt_tokens": 9, "completion_tokens": 4}}
    reply = reply_from(body)
    assert (reply.content, reply.finish_reason, reply.prompt_tokens, reply.completion_tokens) == ("hi", "length", 9, 4)
    assert reply.tool_calls[0].arguments_json() == '{"command": "ls"'  # broken JSON stays broken
    request = {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": "t"},
                            {"role": "assistant", "content": "a"}, {"role": "tool", "content": "r"}]}
    assert conversation_key(request)[1] == 1
    assert conversation_key(request)[0] == conversation_key({"messages": request["messages"][:2]})[0]


def test_every_scaffold_replays_the_real_model_s_replies_to_the_same_end(engine, docker_client, python_image):
    replay = Replay(CASSETTES / "smollm2-135m.jsonl")
    expected = json.loads((CASSETTES / "smollm2-135m.outcomes.json").read_text())
    profile = load_profiles()["smollm2-135m"]
    with ChatServer(replay, model_ids=(profile.resolved_model(),)) as server:
        scripted = profile.model_copy(update={"provider": "openai", "base_url": server.url, "local": None})
        attempts = run_real(engine, docker_client, scripted, "replay", base_url=server.url)
    assert not replay.missed, "a scaffold asked what the real model was never asked: record the cassettes again"
    assert outcomes(engine, attempts) == expected
    assert any(problem for outcome in expected.values() for problem in outcome["problems"])  # real flaws are in there

