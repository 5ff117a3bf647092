"""One model call as the harness makes it: a connection slot, retries with backoff, timings."""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field

import httpx
import openai
from langchain_core.messages import AIMessage, AIMessageChunk, AnyMessage
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from agentbench.models.endpoint import Endpoint, chat_model
from agentbench.models.liveness import note_answered
from agentbench.models.profiles import RetryPolicy

RETRY_STATUSES = {408, 409, 429}  # and every 5xx
MAX_CHARS_PER_TOKEN = 32  # more than any tokenizer packs into one token, even a run of spaces


@dataclass
class Completion:
    """A model's reply and what it took: model time (failed tries and backoff included),
    time queued for a connection slot, time to first token when streamed, the retries."""

    message: AIMessage
    model_s: float
    queue_s: float = 0.0
    ttft_s: float | None = None
    retries: list[dict] = field(default_factory=list)
    usage_problem: str | None = None  # why the server's counts cannot be true, when they cannot

    @property
    def usage_reported(self) -> bool:
        """Whether the server said how many tokens the call took, believably (else they are
        unknown, not zero)."""
        return self.message.usage_metadata is not None and self.usage_problem is None


def implausible_usage(messages: list[AnyMessage], message: AIMessage) -> str | None:
    """Why a reply's token counts cannot be true, if they cannot: fewer tokens than the text sent
    or received could be written in (a server under-reporting to look cheap)."""
    usage = message.usage_metadata
    if usage is None:
        return None
    sent = sum(len(_text(m.content)) for m in messages)
    received = (len(_text(message.content)) + sum(len(json.dumps(c["args"])) for c in message.tool_calls)
                + sum(len(c.get("args") or "") for c in message.invalid_tool_calls))
    for kind, tokens, chars in (("prompt", usage["input_tokens"], sent), ("completion", usage["output_tokens"], received)):
        if tokens * MAX_CHARS_PER_TOKEN < chars:
            return f"the server counted {tokens} {kind} tokens for {chars} characters, fewer than any tokenizer could"
    return None


def _text(content) -> str:
    return content if isinstance(content, str) else json.dumps(content)


class Streaming:
    """Whether one profile's replies are streamed. The first streamed reply that comes without
    usage turns it off for the rest of the run: such a server reports usage only unstreamed."""

    def __init__(self, on: bool = True):
        self.on = on


class ReplyOverdue(Exception):
    """A streamed reply still coming when the call's time ran out."""


class ModelCallFailed(Exception):
    """A call that failed for good; `timed_out` when the model was still answering when its
    time ran out (the configuration's failure), not when the endpoint never answered."""

    def __init__(self, detail: str, retries: list[dict], timed_out: bool = False, context_exceeded: bool = False):
        super().__init__(detail)
        self.detail = detail
        self.retries = retries
        self.timed_out = timed_out
        self.context_exceeded = context_exceeded


def is_retryable(exc: BaseException) -> bool:
    """Rate limits, server errors and dropped connections are retried; a timeout is not."""
    if isinstance(exc, openai.APITimeoutError):
        return False
    if isinstance(exc, openai.APIConnectionError):
        return True
    return isinstance(exc, openai.APIStatusError) and (exc.status_code in RETRY_STATUSES or exc.status_code >= 500)


def retry_after_s(exc: BaseException) -> float | None:
    """The server's Retry-After, in seconds, where it sent one."""
    response = getattr(exc, "response", None)
    value = response.headers.get("retry-after") if response is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None


def describe(exc: BaseException) -> str:
    """A failure in a few words: the HTTP status where there is one, else the error's kind."""
    if isinstance(exc, openai.APIStatusError):
        return f"HTTP {exc.status_code}"
    return exc.__class__.__name__


class ModelCaller:
    """Calls one endpoint for one attempt; `gate` caps the calls in flight to the endpoint."""

    def __init__(self, endpoint: Endpoint, policy: RetryPolicy, gate: threading.Semaphore, stream: bool | Streaming = True,
                 check_usage: bool = True):
        self.endpoint = endpoint
        self.policy = policy
        self.gate = gate
        self.streaming = stream if isinstance(stream, Streaming) else Streaming(stream)
        self.check_usage = check_usage  # off for the built-in baselines, which count no tokens
        self.first_request: tuple[list[AnyMessage], list[dict]] | None = None  # what a liveness probe sends again
        self.failed_at: float | None = None  # when the call that last failed began
        self.up_because: str | None = None  # why agentbench.models.liveness judged the endpoint up
        self.overhead = [0, 0, 0]  # requests, prompt and completion tokens of the harness's own probes through this caller

    def complete(self, messages: list[AnyMessage], tools: list[dict], seconds_left: float | None = None) -> Completion:
        """The reply to `messages`, retried within the policy and the seconds left."""
        started = time.monotonic()
        deadline = started + seconds_left if seconds_left else None
        self.first_request = self.first_request or (messages, tools)
        self.failed_at = started  # until it is answered
        retries: list[dict] = []
        queued = [0.0]
        retrying = Retrying(
            retry=retry_if_exception(is_retryable),
            stop=stop_after_attempt(self.policy.attempts) | (lambda state: deadline is not None and time.monotonic() >= deadline),
            wait=lambda state: self._wait(state, deadline),
            before_sleep=lambda state: retries.append(
                {"error": describe(state.outcome.exception()), "wait_s": round(state.next_action.sleep, 3)}),
            reraise=True,
        )
        try:
            message, ttft = retrying(self._once, messages, tools, deadline, queued)
        except openai.APITimeoutError as exc:
            if isinstance(exc.__cause__, httpx.ConnectTimeout):
                raise ModelCallFailed(f"the endpoint accepted no connection in time (try {len(retries) + 1})", retries) from exc
            raise ModelCallFailed(f"the model had not answered after {time.monotonic() - started:.0f} s", retries, timed_out=True) from exc
        except ReplyOverdue as exc:
            raise ModelCallFailed(f"the model was still replying after {time.monotonic() - started:.0f} s", retries, timed_out=True) from exc
        except openai.OpenAIError as exc:
            tries = f" after {len(retries) + 1} tries" if retries else ""
            context = isinstance(exc, openai.BadRequestError) and "context" in str(exc).lower()
            raise ModelCallFailed(f"{describe(exc)}{tries}: {exc}", retries, context_exceeded=context) from exc
        model_s = time.monotonic() - started - queued[0]
        self.failed_at = None
        problem = implausible_usage(messages, message) if self.check_usage else None
        return Completion(message, model_s, queued[0], ttft, retries, problem)

    def probe(self, messages: list[AnyMessage], tools: list[dict]) -> str | None:
        """Send a request once, as the attempt's calls are sent; None when it is answered (its
        tokens counted as the harness's overhead), else what failed."""
        self.overhead[0] += 1
        try:
            message, _ = self._once(messages, tools, time.monotonic() + min(self.endpoint.timeout_s, 120), [0.0])
        except (openai.OpenAIError, httpx.HTTPError, ReplyOverdue) as exc:
            return describe(exc)
        usage = message.usage_metadata or {}
        self.overhead[1] += usage.get("input_tokens", 0)
        self.overhead[2] += usage.get("output_tokens", 0)
        return None

    def _wait(self, state: RetryCallState, deadline: float | None) -> float:
        jittered = wait_random_exponential(multiplier=self.policy.initial_wait_s, max=self.policy.max_wait_s)(state)
        asked = retry_after_s(state.outcome.exception())
        wait = max(jittered, min(asked, self.policy.max_wait_s)) if asked is not None else jittered
        return min(wait, max(deadline - time.monotonic(), 0.0)) if deadline is not None else wait

    def _once(self, messages: list[AnyMessage], tools: list[dict], deadline: float | None, queued: list[float]) -> tuple[AIMessage, float | None]:
        waiting = time.monotonic()
        with self.gate:
            queued[0] += time.monotonic() - waiting
            seconds = deadline - time.monotonic() if deadline is not None else None
            llm = chat_model(self.endpoint, seconds)
            runnable = llm.bind_tools(tools) if tools else llm
            if not self.streaming.on:
                message, first = runnable.invoke(messages), None
            else:
                limit = min(self.endpoint.timeout_s, seconds) if seconds else self.endpoint.timeout_s
                message, first = _streamed(runnable, messages, time.monotonic() + limit)
                if message.usage_metadata is None:
                    self.streaming.on = False
            note_answered(self.endpoint.base_url)
            return message, first


def _streamed(runnable, messages: list[AnyMessage], deadline: float) -> tuple[AIMessage, float | None]:
    """The streamed reply put together, and the seconds until its first content or tool call;
    ReplyOverdue when it is still coming at `deadline`."""
    started, first, total, usages = time.monotonic(), None, None, []
    for chunk in runnable.stream(messages):
        if time.monotonic() > deadline:
            raise ReplyOverdue()
        if first is None and (chunk.content or chunk.tool_call_chunks):
            first = time.monotonic() - started
        if chunk.usage_metadata is not None:
            usages.append(chunk.usage_metadata)
            chunk = chunk.model_copy(update={"usage_metadata": None})
        total = chunk if total is None else total + chunk
    if total is None:
        return AIMessage(content=""), first
    return _message_from(total, reply_usage(usages)), first


def reply_usage(usages: list[dict]) -> dict | None:
    """One reply's usage from the usage its stream's chunks carried, whatever the server's style:
    once at the end, cumulative counts on every chunk (vLLM's continuous usage stats: the same
    prompt count each time, completion counts that never fall; the last is the reply's), or
    each chunk's own share (summed). None when no chunk carried any."""
    if not usages:
        return None
    prompts = [u["input_tokens"] for u in usages]
    completions = [u["output_tokens"] for u in usages]
    cumulative = len(set(prompts)) == 1 and all(a <= b for a, b in zip(completions, completions[1:]))
    if len(usages) == 1 or cumulative:
        return usages[-1]
    prompt, completion = sum(prompts), sum(completions)
    return {"input_tokens": prompt, "output_tokens": completion, "total_tokens": prompt + completion}


def _message_from(total: AIMessageChunk, usage: dict | None) -> AIMessage:
    """The reply of the merged chunks, its tool arguments parsed strictly: streaming parses
    them leniently, which would turn '{"command": ' into a valid call without arguments."""
    calls, invalid = [], []
    for chunk in total.tool_call_chunks:
        try:
            args = json.loads(chunk["args"] or "{}")
            if not isinstance(args, dict):
                raise ValueError("arguments are not an object")
            calls.append({"name": chunk["name"] or "", "args": args, "id": chunk["id"], "type": "tool_call"})
        except ValueError as exc:
            invalid.append({"name": chunk["name"], "args": chunk["args"], "id": chunk["id"], "error": str(exc), "type": "invalid_tool_call"})
    return AIMessage(content=total.content, tool_calls=calls, invalid_tool_calls=invalid, id=total.id,
                     usage_metadata=usage, response_metadata=total.response_metadata)
