"""The OpenAI-compatible server over real HTTP, as ChatOpenAI and the openai client see it."""

import openai
import pytest
from langchain_core.messages import HumanMessage

from agentbench.agents.tools import EDIT_TOOLS
from agentbench.models.builtin import BuiltinModels, oracle_plan
from agentbench.models.chat_server import Reply, ToolCall
from agentbench.models.endpoint import Endpoint, chat_model


def test_tool_calls_and_usage_reach_chat_openai(scripted_server):
    server = scripted_server([Reply(content="looking", tool_calls=[ToolCall("bash", {"command": "ls"})],
                                    prompt_tokens=123, completion_tokens=45)])
    llm = chat_model(Endpoint(server.url, "scripted", "none")).bind_tools(EDIT_TOOLS)
    reply = llm.invoke([HumanMessage("hi")])
    assert reply.tool_calls[0]["name"] == "bash" and reply.tool_calls[0]["args"] == {"command": "ls"}
    assert reply.usage_metadata["input_tokens"] == 123
    assert reply.usage_metadata["output_tokens"] == 45
    assert server.requests[0]["tools"][0]["function"]["name"] == "bash"


def test_streamed_reply_carries_tool_calls_and_usage(scripted_server):
    server = scripted_server([Reply(tool_calls=[ToolCall("submit", {})], prompt_tokens=7, completion_tokens=3)])
    client = openai.OpenAI(base_url=server.url, api_key="none")
    chunks = list(client.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "hi"}],
                                                 stream=True, stream_options={"include_usage": True}))
    calls = [c.choices[0].delta.tool_calls for c in chunks if c.choices and c.choices[0].delta.tool_calls]
    assert calls[0][0].function.name == "submit"
    assert chunks[-1].usage.prompt_tokens == 7 and chunks[-1].usage.completion_tokens == 3


def test_server_errors_are_retried_by_the_client(scripted_server):
    server = scripted_server([Reply(status=503)])
    client = openai.OpenAI(base_url=server.url, api_key="none", max_retries=2)
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="scripted", messages=[{"role": "user", "content": "hi"}])
    assert len(server.requests) == 3


def test_models_route_lists_served_models():
    with BuiltinModels({}) as models:
        listed = openai.OpenAI(base_url=models.base_url("suite/x"), api_key="none").models.list()
        assert {m.id for m in listed} == {"oracle", "noop", "redteam"}


def test_oracle_uses_whichever_tools_the_agent_offers():
    patch = "diff --git a/x b/x\n"
    with_write = oracle_plan(patch, ["bash", "create_file", "submit"])
    assert [c.name for c in with_write] == ["create_file", "bash", "submit"]
    bash_only = oracle_plan(patch, ["bash"])
    assert [c.name for c in bash_only] == ["bash"]
    assert patch in bash_only[0].arguments["command"]
