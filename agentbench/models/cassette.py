"""Cassettes: a real model's replies recorded once and replayed deterministically, so that
scaffold changes are checked against real model behaviour without the model.

A cassette is a JSONL file, one line per model call: the conversation it belongs to (a digest
of its system prompt and task), its turn (the replies before it), and the server's reply as it
came. Replay answers each call with the recorded reply of the same conversation and turn.
"""

from __future__ import annotations

import hashlib
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx

from agentbench.models.chat_server import Reply, ToolCall


def conversation_key(request: dict) -> tuple[str, int]:
    """Which conversation a chat request continues (its first two messages), and its turn."""
    messages = request.get("messages") or []
    opening = json.dumps([message.get("content") for message in messages[:2]], sort_keys=True)
    turn = sum(1 for message in messages if message.get("role") == "assistant")
    return hashlib.sha256(opening.encode()).hexdigest()[:16], turn


def reply_from(body: dict) -> Reply:
    """A recorded chat.completion as the scripted server's Reply."""
    choice = (body.get("choices") or [{}])[0]
    message, usage = choice.get("message") or {}, body.get("usage") or {}
    calls = [ToolCall(call["function"]["name"], call["function"].get("arguments") or "", call.get("id") or f"call_{index}")
             for index, call in enumerate(message.get("tool_calls") or [])]
    return Reply(content=message.get("content"), tool_calls=calls, prompt_tokens=usage.get("prompt_tokens", 0),
                 completion_tokens=usage.get("completion_tokens", 0), finish_reason=choice.get("finish_reason"))


class Replay:
    """A ChatServer's `respond` that plays a cassette back; a call it has no reply for is a 500."""

    def __init__(self, path: Path):
        self.replies: dict[tuple[str, int], dict] = {}
        for line in path.read_text().splitlines():
            entry = json.loads(line)
            self.replies[(entry["conversation"], entry["turn"])] = entry["response"]
        self.missed: list[tuple[str, int]] = []

    def __call__(self, request: dict, route: str) -> Reply:
        key = conversation_key(request)
        if key not in self.replies:
            self.missed.append(key)
            return Reply(status=500)
        return reply_from(self.replies[key])


class RecordingProxy:
    """Forwards chat requests (not streamed) to a real server (`upstream`: its root, before /v1) and
    appends each reply to a cassette."""

    def __init__(self, upstream: str, path: Path):
        self.upstream, self.path = upstream.rstrip("/"), path
        self._lock = threading.Lock()
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self.httpd.daemon_threads = True
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def record(self, request: dict, response: dict) -> None:
        conversation, turn = conversation_key(request)
        with self._lock, self.path.open("a") as cassette:
            cassette.write(json.dumps({"conversation": conversation, "turn": turn, "response": response}) + "\n")

    def __enter__(self) -> RecordingProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _handler_for(proxy: RecordingProxy) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args) -> None:
            pass

        def do_GET(self) -> None:
            self._relay(httpx.get(f"{proxy.upstream}{self.path}", timeout=30))

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
            answer = httpx.post(f"{proxy.upstream}{self.path}", content=body, timeout=600,
                                headers={"Content-Type": "application/json"})
            if answer.status_code == 200 and self.path.endswith("/chat/completions"):
                proxy.record(json.loads(body), answer.json())
            self._relay(answer)

        def _relay(self, answer: httpx.Response) -> None:
            self.send_response(answer.status_code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(answer.content)))
            self.end_headers()
            self.wfile.write(answer.content)

    return Handler
