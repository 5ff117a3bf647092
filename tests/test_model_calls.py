"""Model calls over real HTTP: retries with backoff, timeouts, the per-endpoint cap, timings."""

import threading
import time

import pytest
from conftest import FIXTURES, Script
from langchain_core.messages import HumanMessage
from sqlmodel import Session, select
from test_runner_e2e import FIXED, call, run_scripted

from agentbench.models.calls import ModelCaller, ModelCallFailed, Streaming
from agentbench.models.chat_server import ChatServer, Reply, ToolCall
from agentbench.models.endpoint import Endpoint
from agentbench.models.profiles import ModelProfile, RetryPolicy
from agentbench.report import trajectory_text
from agentbench.runner import Runner
from agentbench.sandbox.docker import DockerSandboxes
from agentbench.spec import RunSpec
from agentbench.store import StepRow, run_attempts
from agentbench.tasks import load_suite

FAST_RETRY = {"attempts": 5, "initial_wait_s": 0.01, "max_wait_s": 0.05}


class Flaky:
    """Fails the first requests with the given statuses (not a run's one-token checks of the
    endpoint), then answers as `then` does."""

    def __init__(self, statuses: list[int], then, retry_after_s: float | None = None):
        self.statuses = list(statuses)
        self.then = then
        self.retry_after_s = retry_after_s

    def __call__(self, request: dict, route: str) -> Reply:
        if self.statuses and request.get("max_tokens") != 1:
            return Reply(status=self.statuses.pop(0), retry_after_s=self.retry_after_s)
        return self.then(request, route)


@pytest.fixture
def serve():
    servers = []

    def start(respond) -> ChatServer:
        servers.append(ChatServer(respond).start())
        return servers[-1]

    yield start
    for server in servers:
        server.stop()


def caller(server: ChatServer, policy=RetryPolicy(**FAST_RETRY), stream=True, timeout_s=30, slots=8) -> ModelCaller:
    return ModelCaller(Endpoint(server.url, "scripted", "none", timeout_s), policy, threading.BoundedSemaphore(slots), stream)


def test_rate_limits_and_server_errors_are_retried_and_recorded(serve):
    server = serve(Flaky([429, 429, 500], Script([Reply(content="hello", prompt_tokens=7, completion_tokens=3)])))
    completion = caller(server).complete([HumanMessage("hi")], [])
    assert completion.message.content == "hello"
    assert [r["error"] for r in completion.retries] == ["HTTP 429", "HTTP 429", "HTTP 500"]
    assert all(0 <= r["wait_s"] <= 0.05 for r in completion.retries)
    assert completion.message.usage_metadata["input_tokens"] == 7 and completion.ttft_s is not None
    assert len(server.requests) == 4


def test_retry_after_is_honoured_up_to_the_ceiling(serve):
    server = serve(Flaky([429], Script([Reply(content="ok")]), retry_after_s=0.3))
    completion = caller(server, RetryPolicy(attempts=3, initial_wait_s=0.01, max_wait_s=1)).complete([HumanMessage("hi")], [])
    assert completion.retries[0]["wait_s"] == pytest.approx(0.3, abs=0.01)
    assert completion.model_s >= 0.3


def test_giving_up_names_the_error_and_the_tries(serve):
    server = serve(Flaky([503] * 10, Script([])))
    with pytest.raises(ModelCallFailed, match=r"HTTP 503 after 3 tries") as failure:
        caller(server, RetryPolicy(attempts=3, initial_wait_s=0.01, max_wait_s=0.01)).complete([HumanMessage("hi")], [])
    assert len(failure.value.retries) == 2 and len(server.requests) == 3


def test_a_client_error_is_not_retried(serve):
    server = serve(Flaky([401], Script([])))
    with pytest.raises(ModelCallFailed, match="HTTP 401"):
        caller(server).complete([HumanMessage("hi")], [])
    assert len(server.requests) == 1


def test_a_server_that_never_answers_times_out_without_retrying(serve):
    server = serve(Script([Reply(content="late", delay_s=30)]))
    started = time.monotonic()
    with pytest.raises(ModelCallFailed, match="had not answered") as failure:
        caller(server, timeout_s=1).complete([HumanMessage("hi")], [])
    assert failure.value.timed_out and time.monotonic() - started < 10 and len(server.requests) == 1


def test_streamed_and_plain_replies_carry_the_same_tool_calls_and_usage(serve):
    reply = Reply(content="", tool_calls=[ToolCall("bash", {"command": "ls"})], prompt_tokens=11, completion_tokens=5)
    server = serve(Script([reply]))
    streamed = caller(server, stream=True).complete([HumanMessage("hi")], [])
    plain = caller(server, stream=False).complete([HumanMessage("hi")], [])
    for completion in (streamed, plain):
        assert completion.message.tool_calls[0]["args"] == {"command": "ls"}
        assert (completion.message.usage_metadata["input_tokens"], completion.message.usage_metadata["output_tokens"]) == (11, 5)
    assert streamed.ttft_s is not None and plain.ttft_s is None


@pytest.mark.parametrize("style", ["final", "cumulative", "deltas"])
def test_a_streamed_reply_s_usage_is_counted_once_whatever_the_server_s_style(serve, style):
    # cumulative: vLLM with continuous_usage_stats puts the counts so far on every chunk, then the totals again
    reply = Reply(content="one two three four five", prompt_tokens=2701, completion_tokens=47, chunk_delay_s=0.001,
                  usage_style=style)
    usage = caller(serve(Script([reply]))).complete([HumanMessage("hi")], []).message.usage_metadata
    assert (usage["input_tokens"], usage["output_tokens"], usage["total_tokens"]) == (2701, 47, 2748)


def test_reply_usage_tells_cumulative_counts_from_shares():
    from agentbench.models.calls import reply_usage

    def u(prompt, completion):
        return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion}

    assert reply_usage([u(10, 1), u(10, 3), u(10, 3)]) == u(10, 3)  # cumulative, the totals repeated at the end
    assert reply_usage([u(10, 1), u(0, 2), u(0, 0)]) == u(10, 3)  # each chunk's share
    assert reply_usage([u(10, 5)]) == u(10, 5) and reply_usage([]) is None


def test_an_endpoint_cannot_choose_which_failed_calls_leave_the_rate(serve):
    """Liveness is judged from work the endpoint cannot tell from an attempt's: other attempts'
    calls answered after the failure, or the attempt's own first request sent again as it was;
    a one-token "Say OK." (which a hostile endpoint could fail on purpose) is never sent."""
    import json

    from agentbench.models.liveness import endpoint_down

    def respond(request, route):
        text = json.dumps(request["messages"])
        if request.get("max_tokens") == 1 or ("task A" in text and len(request["messages"]) > 1):
            return Reply(status=500)  # fails the plain check and every later turn of one conversation
        return Reply(content="working on it")

    server = serve(respond)
    hostile = caller(server, policy=RetryPolicy(attempts=1))
    hostile.complete([HumanMessage("task A")], [])
    with pytest.raises(ModelCallFailed):
        hostile.complete([HumanMessage("task A"), HumanMessage("go on")], [])
    assert endpoint_down(hostile, pause_s=0) is None  # its first request, sent again, is answered
    assert hostile.up_because == "the endpoint answered this attempt's first request again after a pause"
    assert hostile.overhead[0] == 1 and not any(r.get("max_tokens") == 1 for r in server.requests)

    down = serve(lambda request, route: Reply(status=503))
    lost = caller(down, policy=RetryPolicy(attempts=1))
    with pytest.raises(ModelCallFailed):
        lost.complete([HumanMessage("task B")], [])
    assert endpoint_down(lost, pause_s=0) == "HTTP 503"  # nothing answered, not even the first request again


def test_other_attempts_answered_after_a_failure_prove_the_endpoint_was_up(serve):
    from agentbench.models.liveness import endpoint_down

    server = serve(lambda request, route: Reply(status=500) if "task A" in str(request) else Reply(content="ok"))
    failing, other = caller(server, policy=RetryPolicy(attempts=1)), caller(server)
    with pytest.raises(ModelCallFailed):
        failing.complete([HumanMessage("task A")], [])
    other.complete([HumanMessage("task B")], [])
    assert endpoint_down(failing, pause_s=0) is None and failing.overhead[0] == 0  # no probe needed
    assert failing.up_because == "the endpoint answered other calls after this one failed"


def test_the_connection_cap_queues_calls_and_the_wait_is_measured(serve):
    server = serve(Script([Reply(content="slow", delay_s=0.3)]))
    shared = threading.BoundedSemaphore(1)
    callers = [ModelCaller(Endpoint(server.url, "scripted", "none", 30), RetryPolicy(), shared) for _ in range(3)]
    results = []
    threads = [threading.Thread(target=lambda c=c: results.append(c.complete([HumanMessage("hi")], []))) for c in callers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert server.peak_in_flight == 1
    first, second, third = sorted(r.queue_s for r in results)
    assert first < 0.1 and second >= 0.3 and third >= 0.6
    assert all(r.model_s >= 0.3 for r in results)


def test_a_run_survives_429_429_500_and_its_totals_equal_the_servers_usage(engine, docker_client, python_image, serve):
    script = Script([
        Reply(tool_calls=[call("create_file", path="calc.py", content=FIXED)], prompt_tokens=120, completion_tokens=30),
        Reply(tool_calls=[call("submit")], prompt_tokens=180, completion_tokens=5),
    ])
    server = serve(Flaky([429, 429, 500], script))
    attempt = run_scripted(engine, docker_client, server, "e2e-retries", profile_fields={"retry": FAST_RETRY})
    assert (attempt.solved, attempt.retries, attempt.steps) == (True, 3, 2)
    assert (attempt.prompt_tokens, attempt.completion_tokens) == (300, 35)
    with Session(engine) as session:
        steps = session.exec(select(StepRow).order_by(StepRow.index)).all()
    assert [len(s.retries) for s in steps] == [3, 0]
    assert all(s.ttft_s is not None for s in steps)
    shown = trajectory_text(attempt, steps)
    assert "retried after HTTP 429 (waited" in shown and "retried after HTTP 500" in shown and "first token" in shown


def test_a_model_too_slow_for_its_call_time_fails_the_attempt_in_the_rate_and_the_run_goes_on(engine, docker_client, python_image, serve):
    hung = []

    def respond(request, route):
        if not hung and request.get("max_tokens") != 1:  # not the run's one-token check of the endpoint
            hung.append(True)
            return Reply(content="never", delay_s=60)
        return Reply(tool_calls=[ToolCall("submit", {})])

    server = serve(respond)
    profile = ModelProfile(name="scripted", provider="openai", model="scripted", base_url=server.url, request_timeout_s=2, retry=FAST_RETRY)
    spec = RunSpec(name="e2e-hang", models=["scripted"], agents=["fast"], suites=[str(FIXTURES / "tiny")], epochs=2, workers=1)
    started = time.monotonic()
    Runner(spec, engine, DockerSandboxes(docker_client), [profile], load_suite(str(FIXTURES / "tiny"))).run()
    assert time.monotonic() - started < 60
    first, second = run_attempts(engine, "e2e-hang")
    # the endpoint answered (it is up); the model was too slow: the configuration's failure, not an excluded error
    assert (first.status, first.stop_reason) == ("unsolved", "model_timeout") and "had not answered" in first.detail
    assert (second.status, second.stop_reason) == ("unsolved", "submitted")


def test_profiles_on_one_endpoint_share_one_connection_cap():
    from agentbench.models.endpoint import endpoint_for
    from agentbench.models.profiles import ModelProfile
    from agentbench.models.route import endpoint_gates, forget, shared_gate

    same = [ModelProfile(name=name, provider="openai", model=name, base_url="http://gpu-box:8000/v1", max_connections=cap)
            for name, cap in (("a", 4), ("b", 2))]
    other = ModelProfile(name="c", provider="openai", model="c", base_url="http://other:8000/v1", max_connections=3)
    baseline = ModelProfile(name="oracle", provider="builtin", model="oracle")
    gates = {name: shared_gate("run-1", gate) for name, gate in
             endpoint_gates([*same, other, baseline], {p.name: endpoint_for(p) for p in (*same, other)}).items()}
    assert gates["a"] is gates["b"] and gates["c"] is not gates["a"] and gates["oracle"] not in (gates["a"], gates["c"])
    taken = [gates["a"].acquire(blocking=False) for _ in range(3)]
    assert taken == [True, True, False]  # the smaller cap of the two profiles holds for both
    forget("run-1")
    assert shared_gate("run-1", endpoint_gates(same, {p.name: endpoint_for(p) for p in same})["a"]).acquire(blocking=False)


def test_a_model_still_streaming_when_its_time_runs_out_is_a_timeout_not_an_endless_call(serve):
    words = " ".join(f"w{n}" for n in range(200))
    server = serve(Script([Reply(content=words, chunk_delay_s=0.05)]))
    started = time.monotonic()
    with pytest.raises(ModelCallFailed, match="still replying") as failure:
        caller(server, timeout_s=1).complete([HumanMessage("hi")], [])
    assert failure.value.timed_out and time.monotonic() - started < 4


def test_a_stream_without_usage_is_marked_and_the_profile_goes_on_unstreamed(serve):
    replies = [Reply(content="one", prompt_tokens=11, completion_tokens=2, stream_usage=False),
               Reply(content="two", prompt_tokens=13, completion_tokens=3, stream_usage=False)]
    server = serve(lambda request, route: replies.pop(0))
    shared = Streaming(True)
    first = caller(server, stream=shared).complete([HumanMessage("hi")], [])
    assert not first.usage_reported and not shared.on  # unknown, never a silent zero
    second = caller(server, stream=shared).complete([HumanMessage("hi")], [])
    assert second.usage_reported and second.message.usage_metadata["input_tokens"] == 13
    assert server.requests[0]["stream"] is True and not server.requests[1].get("stream")


def test_the_output_cap_is_sent_as_max_tokens(serve):
    server = serve(Script([Reply(content="ok")]))
    endpoint = Endpoint(server.url, "scripted", "none", 30, max_tokens=77)
    ModelCaller(endpoint, RetryPolicy(), threading.BoundedSemaphore(1), True).complete([HumanMessage("hi")], [])
    assert server.requests[0]["max_tokens"] == 77


@pytest.mark.parametrize("stream", [True, False])
def test_reasoning_text_and_fields_leave_the_tool_calls_intact(serve, stream):
    reply = Reply(content="<think>the sum is wrong</think>Fixing it.", reasoning="first, read calc.py",
                  tool_calls=[ToolCall("bash", {"command": "cat calc.py"})], prompt_tokens=5, completion_tokens=9)
    server = serve(Script([reply]))
    completion = caller(server, stream=stream).complete([HumanMessage("hi")], [])
    assert completion.message.tool_calls[0]["name"] == "bash" and completion.message.tool_calls[0]["args"] == {"command": "cat calc.py"}
    assert completion.message.content.startswith("<think>") and completion.usage_reported


def test_sampling_settings_and_server_extras_reach_the_server(serve):
    server = serve(Script([Reply(content="ok")]))
    endpoint = Endpoint(server.url, "scripted", "none", 30, {"temperature": 0.2, "seed": 7}, 64, {"top_k": 20, "min_p": 0.05})
    ModelCaller(endpoint, RetryPolicy(), threading.BoundedSemaphore(1), False).complete([HumanMessage("hi")], [])
    sent = server.requests[0]
    assert (sent["temperature"], sent["seed"], sent["max_tokens"], sent["top_k"], sent["min_p"]) == (0.2, 7, 64, 20, 0.05)


def test_token_counts_no_tokenizer_could_produce_are_set_aside(serve):
    """A server that under-reports to look cheap (1 token for 4,000 characters) gets its counts
    set aside as unknown, never summed into a cost; believable counts are kept as they came."""
    server = serve(Script([Reply(content="x" * 400, prompt_tokens=1, completion_tokens=1)]))
    cheap = caller(server, stream=False).complete([HumanMessage("y" * 4000)], [])
    assert not cheap.usage_reported
    assert cheap.usage_problem == "the server counted 1 prompt tokens for 4000 characters, fewer than any tokenizer could"
    server = serve(Script([Reply(content="x" * 400, prompt_tokens=1000, completion_tokens=90)]))
    honest = caller(server, stream=False).complete([HumanMessage("y" * 4000)], [])
    assert honest.usage_reported and honest.usage_problem is None
    server = serve(Script([Reply(content="x" * 400, prompt_tokens=1000, completion_tokens=0)]))
    assert "0 completion tokens for 400 characters" in caller(server, stream=True).complete([HumanMessage("y" * 4000)], []).usage_problem
