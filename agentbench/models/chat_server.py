"""A real OpenAI-compatible chat-completions HTTP server whose replies come from a function.

Built-in baselines and the tests' scripted models are served through it, so agents reach
them exactly as they reach vLLM or a vendor: HTTP, tool calls, `usage`, streaming.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field, replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Callable


@dataclass
class ToolCall:
    """One function call the model asks for."""

    name: str
    arguments: dict | str
    id: str = field(default_factory=lambda: f"call_{uuid.uuid4().hex[:12]}")

    def arguments_json(self) -> str:
        return self.arguments if isinstance(self.arguments, str) else json.dumps(self.arguments)


@dataclass
class Reply:
    """What the server answers to one request; the fault fields misbehave on purpose."""

    content: str | None = None
    tool_calls: list[ToolCall] = field(default_factory=list)
    prompt_tokens: int | None = None  # None: about one per four characters, as a tokenizer would count
    completion_tokens: int | None = None
    delay_s: float = 0.0
    status: int = 200
    retry_after_s: float | None = None  # sent as Retry-After with a failure status
    stream_usage: bool = True  # False: a stream carries no usage even when asked (llama-cpp-python's server)
    usage_style: str = "final"  # in streams: once at the end; "cumulative" (vLLM's continuous_usage_stats); "deltas"
    chunk_delay_s: float = 0.0  # streamed word by word, this long between chunks (a model still writing)
    finish_reason: str | None = None  # instead of stop/tool_calls ("length": cut at max_tokens)
    reasoning: str | None = None  # sent as `reasoning_content`, as reasoning models' servers do


Respond = Callable[[dict, str], Reply]


class ChatServer:
    """Serves `respond(request_json, route)` on 127.0.0.1; `route` is the path before /v1."""

    def __init__(self, respond: Respond, model_ids: tuple[str, ...] = ("scripted",), host: str = "127.0.0.1", port: int = 0,
                 version: str | None = None):
        self.respond = respond
        self.model_ids = model_ids
        self.version = version  # served at /version when set, as vLLM does
        self.requests: list[dict] = []
        self.billed: list[tuple[int, int]] = []  # (prompt, completion) of each reply whose usage it reported: its bill
        self.in_flight = 0
        self.peak_in_flight = 0  # the most chat requests it was answering at once
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer((host, port), _handler_for(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def root(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def url(self) -> str:
        """The base URL clients use (…/v1)."""
        return f"{self.root}/v1"

    def start(self) -> ChatServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> ChatServer:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def counted(reply: Reply, request: dict) -> Reply:
    """The reply with the token counts it leaves unset filled in: a character count over four,
    so that a scripted model's usage is as believable as a real server's."""
    def tokens(text: str) -> int:
        return max(1, -(-len(text) // 4))

    sent = "".join(m["content"] if isinstance(m.get("content"), str) else json.dumps(m.get("content"))
                   for m in request.get("messages") or [])
    written = (reply.content or "") + "".join(call.arguments_json() for call in reply.tool_calls)
    return replace(reply, prompt_tokens=tokens(sent) if reply.prompt_tokens is None else reply.prompt_tokens,
                   completion_tokens=tokens(written) if reply.completion_tokens is None else reply.completion_tokens)


def completion_body(reply: Reply, model: str) -> dict:
    """The non-streaming chat.completion object for a reply."""
    message: dict = {"role": "assistant", "content": reply.content}
    if reply.reasoning is not None:
        message["reasoning_content"] = reply.reasoning
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments_json()}}
            for c in reply.tool_calls
        ]
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:16]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": _finish_reason(reply)}],
        "usage": _usage(reply),
    }


def stream_chunks(reply: Reply, model: str, include_usage: bool) -> list[dict]:
    """The chat.completion.chunk objects of a streamed reply, in order."""
    base = {"id": f"chatcmpl-{uuid.uuid4().hex[:16]}", "object": "chat.completion.chunk", "created": int(time.time()), "model": model}

    def chunk(delta: dict, finish: str | None = None) -> dict:
        return {**base, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}]}

    chunks = [chunk({"role": "assistant", "content": ""})]
    if reply.reasoning is not None:
        chunks.append(chunk({"reasoning_content": reply.reasoning}))
    if reply.content:
        words = reply.content.split(" ") if reply.chunk_delay_s else [reply.content]
        chunks += [chunk({"content": word if index == 0 else f" {word}"}) for index, word in enumerate(words)]
    for index, call in enumerate(reply.tool_calls):
        function = {"name": call.name, "arguments": call.arguments_json()}
        chunks.append(chunk({"tool_calls": [{"index": index, "id": call.id, "type": "function", "function": function}]}))
    chunks.append(chunk({}, _finish_reason(reply)))
    if include_usage and reply.stream_usage:
        if reply.usage_style != "final":
            _usage_in_every_chunk(chunks, reply)
        if reply.usage_style != "deltas":
            chunks.append({**base, "choices": [], "usage": _usage(reply)})
    return chunks


def _usage_in_every_chunk(chunks: list[dict], reply: Reply) -> None:
    """Usage on every chunk: the counts so far ("cumulative", as vLLM's continuous usage stats
    send them) or each chunk's own share ("deltas"; the prompt counted on the first)."""
    shares = [reply.completion_tokens // len(chunks)] * len(chunks)
    shares[-1] += reply.completion_tokens - sum(shares)
    written = 0
    for index, (chunk, share) in enumerate(zip(chunks, shares)):
        written += share
        if reply.usage_style == "cumulative":
            prompt, completion = reply.prompt_tokens, written
        else:
            prompt, completion = (reply.prompt_tokens if index == 0 else 0), share
        chunk["usage"] = {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def _finish_reason(reply: Reply) -> str:
    return reply.finish_reason or ("tool_calls" if reply.tool_calls else "stop")


def _usage(reply: Reply) -> dict:
    return {
        "prompt_tokens": reply.prompt_tokens,
        "completion_tokens": reply.completion_tokens,
        "total_tokens": reply.prompt_tokens + reply.completion_tokens,
    }


def _handler_for(server: ChatServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args) -> None:  # keep test and run output quiet
            pass

        def do_GET(self) -> None:
            if self.path.endswith("/health"):
                self._send_json(200, {"status": "ok"})
            elif self.path.endswith("/v1/models"):
                data = [{"id": m, "object": "model", "owned_by": "agentbench"} for m in server.model_ids]
                self._send_json(200, {"object": "list", "data": data})
            elif self.path == "/version" and server.version:
                self._send_json(200, {"version": server.version})
            else:
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})

        def do_POST(self) -> None:
            if not self.path.endswith("/v1/chat/completions"):
                self._send_json(404, {"error": {"message": f"no route {self.path}"}})
                return
            length = int(self.headers.get("Content-Length") or 0)
            request = json.loads(self.rfile.read(length) or b"{}")
            server.requests.append(request)
            route = self.path[: -len("/v1/chat/completions")].strip("/")
            with server._lock:
                server.in_flight += 1
                server.peak_in_flight = max(server.peak_in_flight, server.in_flight)
            try:
                reply = counted(server.respond(request, route), request)
                if reply.delay_s:
                    time.sleep(reply.delay_s)
            finally:
                with server._lock:
                    server.in_flight -= 1
            if reply.status != 200:
                headers = {"Retry-After": f"{reply.retry_after_s:g}"} if reply.retry_after_s is not None else {}
                self._send_json(reply.status, {"error": {"message": "scripted failure", "type": "server_error"}}, headers)
                return
            model = request.get("model", "")
            if request.get("stream"):
                include_usage = bool((request.get("stream_options") or {}).get("include_usage"))
                if include_usage and reply.stream_usage:
                    server.billed.append((reply.prompt_tokens, reply.completion_tokens))
                self._send_stream(stream_chunks(reply, model, include_usage), reply.chunk_delay_s)
            else:
                server.billed.append((reply.prompt_tokens, reply.completion_tokens))
                self._send_json(200, completion_body(reply, model))

        def _send_json(self, status: int, body: dict, headers: dict | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _send_stream(self, chunks: list[dict], delay_s: float) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Connection", "close")
            self.end_headers()
            for chunk in chunks:
                self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                if delay_s:
                    self.wfile.flush()
                    time.sleep(delay_s)
            self.wfile.write(b"data: [DONE]\n\n")
            self.wfile.flush()
            self.close_connection = True

    return Handler
