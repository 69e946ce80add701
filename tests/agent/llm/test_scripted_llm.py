"""The scripted server itself: wire format, scripts, and shutting down under a slow request."""

from __future__ import annotations

import json
import threading
import time
import urllib.error
import urllib.request
from typing import Any

from tests.fakes.scripted_llm import Delay, HttpError, ReceivedRequest, Reply, ScriptedLLM


def post(base_url: str, body: dict[str, Any], timeout: float = 30.0) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(
        f"{base_url}/chat/completions",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_replies_in_the_openai_wire_format() -> None:
    with ScriptedLLM([Reply("hello", prompt_tokens=3, completion_tokens=2)]) as llm:
        status, body = post(llm.base_url, {"model": "m", "messages": [{"role": "user", "content": "hi"}]})
    assert llm.base_url.startswith("http://127.0.0.1:") and llm.base_url.endswith("/v1")
    assert status == 200
    assert body["object"] == "chat.completion" and body["model"] == "m" and body["id"]
    assert isinstance(body["created"], int)
    assert body["choices"][0]["message"] == {"role": "assistant", "content": "hello"}
    assert body["usage"] == {"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5}
    assert llm.requests[0].messages == [{"role": "user", "content": "hi"}]


def test_a_function_script_sees_each_request_and_an_exhausted_script_says_so() -> None:
    def echo(request: ReceivedRequest) -> Reply:
        return Reply(request.messages[-1]["content"].upper())

    with ScriptedLLM(echo) as llm:
        assert (
            post(llm.base_url, {"model": "m", "messages": [{"role": "user", "content": "ab"}]})[1]["choices"][
                0
            ]["message"]["content"]
            == "AB"
        )
    with ScriptedLLM([HttpError(418, {"X-Why": "teapot"})]) as llm:
        assert post(llm.base_url, {"model": "m", "messages": []})[0] == 418
        status, body = post(llm.base_url, {"model": "m", "messages": []})
    assert status == 500 and "no more steps" in body["error"]["message"]


def test_closes_promptly_with_a_delayed_request_in_flight() -> None:
    llm = ScriptedLLM([Delay(60)]).start()
    outcome: list[BaseException | tuple[int, Any]] = []

    def client() -> None:
        try:
            outcome.append(post(llm.base_url, {"model": "m", "messages": []}))
        except Exception as exc:
            outcome.append(exc)

    thread = threading.Thread(target=client)
    thread.start()
    deadline = time.monotonic() + 10
    while llm.in_flight == 0 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert llm.in_flight == 1
    started = time.monotonic()
    llm.close()
    assert time.monotonic() - started < 3.0
    thread.join(timeout=10)
    assert not thread.is_alive()
    assert outcome and isinstance(outcome[0], Exception)  # the connection was dropped, not answered
    assert llm.in_flight == 0
