"""Each scaffold's control flow and each budget, driven by scripted models over real HTTP in real Docker."""

import pytest
from sqlmodel import Session, select
from test_runner_e2e import FIXED, call, run_scripted

from agentbench.contracts import Budget
from agentbench.models.chat_server import Reply, ToolCall
from agentbench.models.profiles import Prices
from agentbench.store import StepRow

WRONG = FIXED.replace("a + b", "a * b")
CHECK = "python3 -c 'import calc; assert calc.add(2, 3) == 5, calc.add(2, 3)'"


def agent_requests(server) -> list[dict]:
    """The scaffold's requests, without the run's one-token check of the endpoint."""
    return [request for request in server.requests if request.get("max_tokens") != 1]


def steps_of(engine):
    with Session(engine) as session:
        return session.exec(select(StepRow).order_by(StepRow.index)).all()


def tools_offered(request):
    return [tool["function"]["name"] for tool in request.get("tools") or []]


def test_deliberate_verifies_before_submitting_and_loops_back_on_a_failed_check(engine, docker_client, python_image, scripted_server):
    server = scripted_server([
        Reply(content="1. reproduce with a check 2. fix add 3. verify"),                       # plan
        Reply(tool_calls=[call("bash", command=CHECK)]),                                       # act: reproduce
        Reply(tool_calls=[call("create_file", path="calc.py", content=WRONG)]),                # act: a wrong fix
        Reply(tool_calls=[call("submit")]),                                                    # act: done?
        Reply(tool_calls=[call("bash", command=CHECK)]),                                       # verify: fails
        Reply(tool_calls=[call("verdict", passed=False, evidence="add(2, 3) returned 6")]),    # verify: verdict
        Reply(content="I multiplied instead of adding; use +."),                               # reflect
        Reply(tool_calls=[call("str_replace", path="calc.py", old_str="a * b", new_str="a + b")]),  # act again
        Reply(tool_calls=[call("submit")]),
        Reply(tool_calls=[call("bash", command=CHECK)]),                                       # verify: passes
        Reply(tool_calls=[call("verdict", passed=True, evidence="check passed")]),
    ])
    attempt = run_scripted(engine, docker_client, server, "deliberate-loop", agent="deliberate", budget=Budget(steps=20))
    assert (attempt.solved, attempt.stop_reason, attempt.detail) == (True, "submitted", "verified")
    phases = [s.phase for s in steps_of(engine)]
    assert phases == ["plan", "act", "act", "act", "verify", "verify", "reflect", "act", "act", "verify", "verify"]
    results = [s.tool_results for s in steps_of(engine)]
    assert "AssertionError: 6" in results[4][0] and results[9][0] == "exit code: 0\n"
    assert tools_offered(agent_requests(server)[0]) == []                               # planning offers no tools
    assert "verdict" in tools_offered(agent_requests(server)[4]) and "submit" not in tools_offered(agent_requests(server)[4])
    assert "add(2, 3) returned 6" in agent_requests(server)[6]["messages"][-1]["content"]  # reflection sees the evidence


def test_fast_submits_without_a_verification_step(engine, docker_client, python_image, scripted_server):
    server = scripted_server([Reply(tool_calls=[call("create_file", path="calc.py", content=WRONG)]),
                              Reply(tool_calls=[call("submit")])])
    attempt = run_scripted(engine, docker_client, server, "fast-no-verify", agent="fast")
    assert (attempt.stop_reason, attempt.steps, attempt.solved) == ("submitted", 2, False)
    assert [s.phase for s in steps_of(engine)] == ["act", "act"]
    assert all("verdict" not in tools_offered(r) for r in agent_requests(server))
    assert len(agent_requests(server)) == 2


def test_minimal_offers_bash_only_and_ends_on_a_final_answer(engine, docker_client, python_image, scripted_server):
    server = scripted_server([
        Reply(tool_calls=[call("bash", command="sed -i 's/a - b/a + b/' calc.py")]),
        Reply(tool_calls=[call("view", path="calc.py")]),
        Reply(content="Fixed add()."),
    ])
    attempt = run_scripted(engine, docker_client, server, "minimal", agent="minimal")
    assert (attempt.solved, attempt.stop_reason, attempt.steps) == (True, "submitted", 3)
    assert tools_offered(agent_requests(server)[0]) == ["bash"]
    assert steps_of(engine)[1].tool_results[0].startswith("Error: unknown tool 'view'; the tools are: bash")


@pytest.mark.parametrize("agent", ["fast", "deliberate", "minimal"])
def test_every_scaffold_answers_bad_tool_calls_and_goes_on(engine, docker_client, python_image, scripted_server, agent):
    opening = [Reply(content="plan: fix add")] if agent == "deliberate" else []
    closing = [Reply(tool_calls=[call("submit")])] if agent == "fast" else \
        [Reply(content="done"), Reply(tool_calls=[call("verdict", passed=True, evidence="ok")])]
    server = scripted_server([
        *opening,
        Reply(tool_calls=[ToolCall("bash", '{"command": ')]),
        Reply(tool_calls=[call("launch_missiles")]),
        Reply(tool_calls=[call("bash", command="sed -i 's/a - b/a + b/' calc.py")]),
        *closing,
    ])
    attempt = run_scripted(engine, docker_client, server, f"bad-calls-{agent}", agent=agent)
    assert attempt.solved and attempt.stop_reason == "submitted"
    results = [s.tool_results for s in steps_of(engine) if s.tool_results]
    assert results[0][0].startswith("Error: the arguments of bash are not valid JSON")
    assert results[1][0].startswith("Error: unknown tool 'launch_missiles'")


def test_fast_feeds_a_format_error_back_for_each_reply_without_a_valid_tool_call(engine, docker_client, python_image, scripted_server):
    server = scripted_server([
        Reply(content="I will fix calc.py now."),                                          # prose, no tool call
        Reply(content='<tool_call>{"name": "bash", "arguments": {"command": "ls"}}</tool_call>'),  # a call written as text
        Reply(content=""),                                                                 # an empty reply
        Reply(content="sed -i", finish_reason="length"),                                   # cut at max_tokens
        Reply(tool_calls=[call("bash")]),                                                  # a required argument missing
        Reply(tool_calls=[call("bash", command="sed -i 's/a - b/a + b/' calc.py")]),
        Reply(tool_calls=[call("submit")]),
    ])
    attempt = run_scripted(engine, docker_client, server, "format-errors", budget=Budget(steps=10))
    assert (attempt.solved, attempt.stop_reason, attempt.steps) == (True, "submitted", 7)
    fed_back = [r["messages"][-1]["content"] for r in agent_requests(server)[1:5]]
    assert fed_back[0].startswith("Your reply called no tool") and fed_back[1].startswith("You wrote a tool call as text")
    assert fed_back[2].startswith("Your reply called no tool") and fed_back[3].startswith("Your reply was cut off")
    problems = [s.call_problem for s in steps_of(engine)]
    assert problems == ["no tool call", "no tool call", "empty reply", "cut at max_tokens", "bash without command", "", ""]
    assert (attempt.tool_call_checks, attempt.valid_tool_calls) == (7, 2)


def test_token_budget(engine, docker_client, python_image, scripted_server):
    server = scripted_server([Reply(tool_calls=[call("bash", command="true")], prompt_tokens=400, completion_tokens=100)] * 10)
    attempt = run_scripted(engine, docker_client, server, "tokens", budget=Budget(tokens=1200))
    assert (attempt.stop_reason, attempt.steps, attempt.prompt_tokens + attempt.completion_tokens) == ("token_limit", 3, 1500)


def test_dollar_budget(engine, docker_client, python_image, scripted_server):
    server = scripted_server([Reply(tool_calls=[call("bash", command="true")], prompt_tokens=100_000, completion_tokens=10_000)] * 10)
    prices = Prices(input_per_mtok=1.0, output_per_mtok=5.0)  # $0.15 a step
    attempt = run_scripted(engine, docker_client, server, "dollars", budget=Budget(dollars=0.40), profile_fields={"prices": prices})
    assert (attempt.stop_reason, attempt.steps) == ("cost_limit", 3)
    assert attempt.cost_usd == pytest.approx(0.45)


def test_long_history_is_trimmed_deterministically_and_the_event_recorded(engine, docker_client, python_image, scripted_server):
    output = "python3 -c \"print('x' * 1500)\""
    server = scripted_server([Reply(tool_calls=[call("bash", command=output)])] * 12)
    attempt = run_scripted(engine, docker_client, server, "trim", budget=Budget(steps=12), profile_fields={"context_window": 4000})
    assert attempt.stop_reason == "step_limit"
    notes = [s.note for s in steps_of(engine) if s.note]
    assert notes and all(n.startswith("elided ") and n.endswith(" old tool outputs to fit the context window") for n in notes)
    sent = [[m["content"] for m in r["messages"] if m["role"] == "tool"] for r in agent_requests(server)]
    assert sent[-1][0].startswith("[tool output elided") and not sent[-1][-1].startswith("[tool output elided")
    assert sent[-1][:3] == sent[-2][:3]  # the same history is trimmed the same way


def test_history_that_cannot_fit_is_a_context_overflow(engine, docker_client, python_image, scripted_server):
    server = scripted_server([Reply(tool_calls=[call("bash", command="python3 -c \"print('x' * 20000)\"")])] * 3)
    attempt = run_scripted(engine, docker_client, server, "overflow", profile_fields={"context_window": 4000})
    assert (attempt.stop_reason, attempt.steps) == ("context_overflow", 1)
    assert "do not fit" in attempt.detail


def test_a_sandbox_that_dies_mid_attempt_is_tried_again_then_a_sandbox_error_not_graded(engine, docker_client, python_image, scripted_server):
    import threading
    import time

    done, killed = threading.Event(), []

    def kill_agent_containers():
        while not done.is_set():
            for found in docker_client.containers.list(filters={"label": ["agentbench.run=dies", "agentbench.role=agent"]}):
                if found.id not in killed:
                    time.sleep(0.5)
                    found.remove(force=True)
                    killed.append(found.id)
            time.sleep(0.05)

    killer = threading.Thread(target=kill_agent_containers)
    killer.start()
    server = scripted_server([Reply(tool_calls=[call("bash", command="sleep 20")])] * 3)
    try:
        attempt = run_scripted(engine, docker_client, server, "dies")
    finally:
        done.set()
        killer.join()
    assert len(killed) == 2  # the first try and the one retry (infra_retries defaults to 1)
    assert (attempt.status, attempt.stop_reason, attempt.grade_status, attempt.solved) == ("error", "sandbox_error", None, False)
    assert attempt.infra_retries == 1


def test_call_problems_name_what_a_real_model_gets_wrong():
    from langchain_core.messages import AIMessage

    from agentbench.agents.loop import call_problem
    from agentbench.agents.tools import BASH, SUBMIT

    tools = [BASH, SUBMIT]

    def reply(content="", calls=(), invalid=(), finish=None):
        return AIMessage(content=content, tool_calls=[{"name": n, "args": a, "id": "c", "type": "tool_call"} for n, a in calls],
                         invalid_tool_calls=[{"name": n, "args": a, "id": "c", "error": "bad", "type": "invalid_tool_call"} for n, a in invalid],
                         response_metadata={"finish_reason": finish} if finish else {})

    assert call_problem(reply(calls=[("bash", {"command": "ls"}), ("submit", {})]), tools, False) == ""  # several calls
    assert call_problem(reply(calls=[("bash.", {"command": "ls"})]), tools, False) == "unknown tool 'bash.'"  # stray punctuation
    assert call_problem(reply(invalid=[("bash", '{"command": ')]), tools, False) == "tool arguments are not a JSON object"
    assert call_problem(reply(calls=[("bash", {})]), tools, False) == "bash without command"
    assert call_problem(reply(content="<think>hmm</think>done"), tools, True) == ""  # an answer where answers end
    assert call_problem(reply(content="done"), tools, False) == "no tool call"
    assert call_problem(reply(content="  "), tools, True) == "empty reply"
    assert call_problem(reply(content="x", finish="length"), tools, True) == "cut at max_tokens"
    assert call_problem(reply(content="a plan"), [], False) is None  # no tools offered: nothing to judge
