"""A scripted OpenAI-compatible chat server on loopback, so LLM clients are tested over real HTTP.

``ScriptedLLM`` serves ``POST /v1/chat/completions`` in the OpenAI wire format from a script:
a list of steps taken one per request (then ``then`` for every request after), or a function
from the received request to a step. A step replies with text, fails with an HTTP status
and headers, waits before doing another step, sends an oversized reply, sends raw bytes, or
drops the connection without a reply. Every request body is recorded, and the server counts
how many requests it held at once.

    with ScriptedLLM([HttpError(429, {"Retry-After": "1"}), Reply("hi")]) as llm:
        client = LLMClient(LLMClientConfig(base_url=llm.base_url))

Closing wakes any request still waiting in a ``Delay`` (its connection is dropped), so a
test never waits on a slow step to shut down.
"""

from __future__ import annotations

import itertools
import json
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CHAT_PATH = "/v1/chat/completions"


@dataclass(frozen=True)
class Reply:
    """A normal completion; ``usage=False`` leaves the usage block out."""

    text: str
    prompt_tokens: int = 11
    completion_tokens: int = 7
    usage: bool = True
    finish_reason: str = "stop"


@dataclass(frozen=True)
class HttpError:
    status: int
    headers: Mapping[str, str] = field(default_factory=dict)
    message: str = "scripted error"


@dataclass(frozen=True)
class Delay:
    seconds: float
    then: Step = Reply("a late reply")


@dataclass(frozen=True)
class Oversized:
    chars: int


@dataclass(frozen=True)
class Raw:
    """Exactly these bytes as the body, for replies that are not valid completions."""

    body: bytes
    status: int = 200
    content_type: str = "application/json"


@dataclass(frozen=True)
class Drop:
    """Close the connection without sending a response."""


Step = Reply | HttpError | Delay | Oversized | Raw | Drop
Script = Iterable[Step] | Callable[["ReceivedRequest"], Step]


@dataclass(frozen=True)
class ReceivedRequest:
    path: str
    headers: Mapping[str, str]
    body: Mapping[str, Any]
    received_at: float

    @property
    def model(self) -> str:
        return str(self.body.get("model", ""))

    @property
    def messages(self) -> list[dict[str, Any]]:
        return list(self.body.get("messages", []))


def completion_body(text: str, model: str, number: int, step: Reply | None = None) -> dict[str, Any]:
    step = step or Reply(text)
    body: dict[str, Any] = {
        "id": f"chatcmpl-scripted-{number}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {
                "index": 0,
                "message": {"role": "assistant", "content": text},
                "finish_reason": step.finish_reason,
            }
        ],
    }
    if step.usage:
        body["usage"] = {
            "prompt_tokens": step.prompt_tokens,
            "completion_tokens": step.completion_tokens,
            "total_tokens": step.prompt_tokens + step.completion_tokens,
        }
    return body


class ScriptedLLM:
    def __init__(self, script: Script = (), *, then: Step | None = None) -> None:
        self._function = script if callable(script) else None
        self._steps: list[Step] = [] if callable(script) else list(script)
        self._then = then if then is not None else HttpError(500, message="the script has no more steps")
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._requests: list[ReceivedRequest] = []
        self._numbers = itertools.count(1)
        self.in_flight = 0
        self.max_in_flight = 0
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(self))
        self._server.daemon_threads = False  # so close() joins every handler thread
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.05,), daemon=True)
        self._started = False

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    @property
    def requests(self) -> list[ReceivedRequest]:
        with self._lock:
            return list(self._requests)

    def push(self, *steps: Step) -> None:
        with self._lock:
            self._steps.extend(steps)

    def start(self) -> ScriptedLLM:
        if not self._started:
            self._started = True
            self._thread.start()
        return self

    def close(self) -> None:
        self._stopping.set()
        if self._started:
            self._server.shutdown()
            self._thread.join(timeout=10)
        self._server.server_close()

    def __enter__(self) -> ScriptedLLM:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # Called from handler threads.
    def _receive(self, request: ReceivedRequest) -> tuple[Step, int]:
        with self._lock:
            self._requests.append(request)
            self.in_flight += 1
            self.max_in_flight = max(self.max_in_flight, self.in_flight)
            number = next(self._numbers)
            if self._function is not None:
                return self._function(request), number
            return (self._steps.pop(0) if self._steps else self._then), number

    def _done(self) -> None:
        with self._lock:
            self.in_flight -= 1


def _handler_for(owner: ScriptedLLM) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        timeout = 10  # a client that opens a connection and sends nothing cannot hold close()

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            try:
                self._serve()
            except (BrokenPipeError, ConnectionResetError):
                self.close_connection = True  # the client gave up first (its own timeout)

        def _serve(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            if self.path != CHAT_PATH:
                self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})
                return
            try:
                body = json.loads(raw)
            except ValueError:
                self._json(400, {"error": {"message": "the body is not JSON", "type": "invalid_request"}})
                return
            headers = {name.lower(): value for name, value in self.headers.items()}
            request = ReceivedRequest(self.path, headers, body, time.monotonic())
            step, number = owner._receive(request)
            try:
                self._perform(step, request, number)
            finally:
                owner._done()

        def _perform(self, step: Step, request: ReceivedRequest, number: int) -> None:
            if isinstance(step, Delay):
                if owner._stopping.wait(step.seconds):
                    self.close_connection = True
                    return
                self._perform(step.then, request, number)
            elif isinstance(step, Reply):
                self._json(200, completion_body(step.text, request.model, number, step))
            elif isinstance(step, Oversized):
                self._json(200, completion_body("x" * step.chars, request.model, number))
            elif isinstance(step, HttpError):
                error = {"error": {"message": step.message, "type": "scripted", "code": step.status}}
                self._json(step.status, error, step.headers)
            elif isinstance(step, Raw):
                self._send(step.status, step.body, step.content_type, {})
            else:
                self.close_connection = True

        def _json(
            self, status: int, body: Mapping[str, Any], headers: Mapping[str, str] | None = None
        ) -> None:
            self._send(status, json.dumps(body).encode(), "application/json", headers or {})

        def _send(self, status: int, payload: bytes, content_type: str, headers: Mapping[str, str]) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(payload)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(payload)

    return Handler
