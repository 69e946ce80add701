"""The LLM client against a real scripted OpenAI-compatible server on loopback.

Timings are checked with wide margins: the machine may be busy, so a bound is asserted
only where its breach would mean a real fault (a wait ignored, a call left hanging).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from agent.llm.cache import MemoryCache
from agent.llm.client import LLMClient, LLMClientConfig
from agent.llm.models import parse_prices
from agent.llm.types import CallFailure, CallOutcome, ChatMessage, ChatRequest, ChatResponse
from tests.fakes.scripted_llm import Delay, Drop, HttpError, Oversized, Raw, Reply, ScriptedLLM

T = TypeVar("T")
Server = Callable[..., ScriptedLLM]

REQUEST = ChatRequest(
    "coder-7b",
    (ChatMessage("system", "You write Triton kernels."), ChatMessage("user", "Make softmax faster.")),
    max_tokens=256,
    temperature=0.3,
)


def fast(base_url: str, **overrides: Any) -> LLMClientConfig:
    """Short backoffs and bounds so retry tests finish quickly."""
    settings: dict[str, Any] = dict(
        base_url=base_url,
        api_key="test-key",
        max_attempts=3,
        attempt_timeout_s=5.0,
        total_timeout_s=8.0,
        backoff_initial_s=0.05,
        backoff_max_s=0.2,
        retry_after_cap_s=5.0,
    )
    settings.update(overrides)
    return LLMClientConfig(**settings)


def run(main: Callable[[], Coroutine[Any, Any, T]]) -> T:
    return asyncio.run(main())


async def call_once(config: LLMClientConfig, request: ChatRequest = REQUEST, **kwargs: Any) -> Any:
    async with LLMClient(config, **kwargs) as client:
        return await client.complete(request)


def test_a_good_reply_with_usage_and_cost(scripted_llm: Server) -> None:
    llm = scripted_llm([Reply("def kernel(): ...", prompt_tokens=1200, completion_tokens=300)])
    prices = parse_prices("coder-7b=2/10")
    response = run(lambda: call_once(fast(llm.base_url), prices=prices))
    assert isinstance(response, ChatResponse)
    assert response.text == "def kernel(): ..."
    assert (response.prompt_tokens, response.completion_tokens) == (1200, 300)
    assert not response.tokens_estimated and not response.cached
    assert response.attempts == 1 and response.model == "coder-7b" and response.finish_reason == "stop"
    assert response.cost_usd == pytest.approx((1200 * 2 + 300 * 10) / 1e6)
    (received,) = llm.requests
    assert received.model == "coder-7b"
    assert received.messages == [
        {"role": "system", "content": "You write Triton kernels."},
        {"role": "user", "content": "Make softmax faster."},
    ]
    assert received.body["max_tokens"] == 256 and received.body["temperature"] == 0.3
    assert received.headers.get("authorization") == "Bearer test-key"


def test_missing_usage_is_estimated_and_flagged(scripted_llm: Server) -> None:
    llm = scripted_llm([Reply("x" * 400, usage=False)])
    response = run(lambda: call_once(fast(llm.base_url)))
    assert isinstance(response, ChatResponse)
    assert response.tokens_estimated
    assert response.completion_tokens == 100
    assert response.prompt_tokens == (REQUEST.prompt_chars() + 3) // 4


def test_429_waits_what_retry_after_asks_then_succeeds(scripted_llm: Server) -> None:
    llm = scripted_llm([HttpError(429, {"Retry-After": "1"}), Reply("after the wait")])
    response = run(lambda: call_once(fast(llm.base_url, backoff_initial_s=0.01)))
    assert isinstance(response, ChatResponse) and response.text == "after the wait"
    assert response.attempts == 2
    first, second = llm.requests
    assert 0.9 <= second.received_at - first.received_at < 6.0


def test_retry_after_is_capped(scripted_llm: Server) -> None:
    llm = scripted_llm([HttpError(429, {"Retry-After": "3600"}), Reply("soon")])
    started = time.monotonic()
    response = run(lambda: call_once(fast(llm.base_url, retry_after_cap_s=0.2)))
    assert isinstance(response, ChatResponse) and response.attempts == 2
    assert time.monotonic() - started < 6.0


def test_a_wait_past_the_deadline_is_not_slept(scripted_llm: Server) -> None:
    llm = scripted_llm([HttpError(429, {"Retry-After": "30"})], then=Reply("never reached"))
    started = time.monotonic()
    failure = run(lambda: call_once(fast(llm.base_url, retry_after_cap_s=60, total_timeout_s=3)))
    assert isinstance(failure, CallFailure)
    assert failure.outcome is CallOutcome.RATE_LIMITED and failure.status_code == 429
    assert "deadline" in failure.reason and failure.attempts == 1
    assert time.monotonic() - started < 3.0
    assert len(llm.requests) == 1


@pytest.mark.parametrize("status", [500, 502, 503, 408])
def test_transient_errors_are_retried_then_succeed(scripted_llm: Server, status: int) -> None:
    llm = scripted_llm([HttpError(status), Reply("recovered")])
    response = run(lambda: call_once(fast(llm.base_url)))
    assert isinstance(response, ChatResponse) and response.text == "recovered"
    assert response.attempts == 2 and len(llm.requests) == 2


def test_500_forever_fails_after_the_configured_attempts(scripted_llm: Server) -> None:
    llm = scripted_llm(then=HttpError(503, message="overloaded"))
    failure = run(lambda: call_once(fast(llm.base_url, max_attempts=4)))
    assert isinstance(failure, CallFailure)
    assert failure.outcome is CallOutcome.SERVER_ERROR and failure.status_code == 503
    assert failure.attempts == 4 and len(llm.requests) == 4
    assert "503" in failure.reason and "overloaded" in failure.reason and "4 attempts" in failure.reason


@pytest.mark.parametrize(
    ("status", "outcome"),
    [(400, CallOutcome.BAD_REQUEST), (404, CallOutcome.BAD_REQUEST), (401, CallOutcome.AUTH_ERROR)],
)
def test_other_4xx_are_not_retried(scripted_llm: Server, status: int, outcome: CallOutcome) -> None:
    llm = scripted_llm([HttpError(status, message="no such model")], then=Reply("must not be asked"))
    failure = run(lambda: call_once(fast(llm.base_url)))
    assert isinstance(failure, CallFailure)
    assert failure.outcome is outcome and failure.status_code == status and failure.attempts == 1
    assert "no such model" in failure.reason
    assert len(llm.requests) == 1


def test_a_stalled_endpoint_times_out_within_the_bound(scripted_llm: Server) -> None:
    llm = scripted_llm(then=Delay(60))
    config = fast(llm.base_url, attempt_timeout_s=1.0, total_timeout_s=2.0, max_attempts=10)
    started = time.monotonic()
    failure = run(lambda: call_once(config))
    elapsed = time.monotonic() - started
    assert isinstance(failure, CallFailure) and failure.outcome is CallOutcome.TIMEOUT
    assert 1.5 <= elapsed < 2.0 + 3.0
    assert failure.attempts >= 1 and "2 s bound" in failure.reason


def test_a_slow_attempt_is_retried(scripted_llm: Server) -> None:
    llm = scripted_llm([Delay(60), Reply("second time lucky")])
    response = run(lambda: call_once(fast(llm.base_url, attempt_timeout_s=0.5)))
    assert isinstance(response, ChatResponse) and response.attempts == 2


def test_an_oversized_reply_is_a_failure_not_a_crash(scripted_llm: Server) -> None:
    llm = scripted_llm([Oversized(50_000)], then=Reply("must not be asked"))
    failure = run(lambda: call_once(fast(llm.base_url, max_response_chars=10_000)))
    assert isinstance(failure, CallFailure) and failure.outcome is CallOutcome.TOO_LARGE
    assert "50000" in failure.reason and "10000" in failure.reason
    assert len(llm.requests) == 1


@pytest.mark.parametrize(
    ("step", "outcome"),
    [
        (Reply(""), CallOutcome.EMPTY),
        (Reply("  \n"), CallOutcome.EMPTY),
        (Raw(b"<html>gateway</html>", content_type="text/html"), CallOutcome.MALFORMED),
        (Raw(b'{"object": "chat.completion", "choices": []}'), CallOutcome.EMPTY),
        (Raw(b'{"unexpected": true}'), CallOutcome.MALFORMED),
    ],
)
def test_unusable_replies_are_named(scripted_llm: Server, step: Any, outcome: CallOutcome) -> None:
    llm = scripted_llm([step], then=Reply("must not be asked"))
    failure = run(lambda: call_once(fast(llm.base_url)))
    assert isinstance(failure, CallFailure) and failure.outcome is outcome, failure
    assert len(llm.requests) == 1


def test_a_dropped_connection_is_retried(scripted_llm: Server) -> None:
    llm = scripted_llm([Drop(), Reply("back again")])
    response = run(lambda: call_once(fast(llm.base_url)))
    assert isinstance(response, ChatResponse) and response.attempts == 2


def test_connections_dropped_forever_end_in_a_connection_error(scripted_llm: Server) -> None:
    llm = scripted_llm(then=Drop())
    failure = run(lambda: call_once(fast(llm.base_url)))
    assert isinstance(failure, CallFailure) and failure.outcome is CallOutcome.CONNECTION_ERROR
    assert failure.attempts == 3 and len(llm.requests) == 3
    assert "disconnected" in failure.reason.lower()


def test_an_unreachable_endpoint_is_a_connection_error() -> None:
    with ScriptedLLM() as llm:
        base_url = llm.base_url  # a port nobody listens on once closed
    failure = run(lambda: call_once(fast(base_url, max_attempts=2)))
    assert isinstance(failure, CallFailure) and failure.outcome is CallOutcome.CONNECTION_ERROR


def test_concurrent_calls_respect_the_limit(scripted_llm: Server) -> None:
    llm = scripted_llm(lambda request: Delay(0.5, Reply(f"for {request.messages[-1]['content']}")))

    async def main() -> list[Any]:
        async with LLMClient(fast(llm.base_url, max_concurrent=2)) as client:
            requests = [ChatRequest("m", (ChatMessage("user", f"task {i}"),)) for i in range(6)]
            return await asyncio.gather(*(client.complete(r) for r in requests))

    results = run(main)
    assert [r.text for r in results] == [f"for task {i}" for i in range(6)]
    assert llm.max_in_flight == 2
    assert len(llm.requests) == 6


def test_a_cache_hit_makes_no_request_and_costs_nothing(scripted_llm: Server) -> None:
    llm = scripted_llm([Reply("first", prompt_tokens=100, completion_tokens=10), Reply("second")])
    cache = MemoryCache()
    prices = parse_prices("coder-7b=1/1")

    async def main() -> tuple[Any, Any, Any]:
        async with LLMClient(fast(llm.base_url), cache=cache, prices=prices) as client:
            first = await client.complete(REQUEST)
            again = await client.complete(REQUEST)
            other_sample = await client.complete(ChatRequest(REQUEST.model, REQUEST.messages, sample=1))
            return first, again, other_sample

    first, again, other_sample = run(main)
    assert first.text == again.text == "first" and other_sample.text == "second"
    assert not first.cached and first.cost_usd > 0
    assert again.cached and again.cost_usd == 0.0 and again.attempts == 0
    assert len(llm.requests) == 2 and len(cache) == 2


def test_failures_are_not_cached(scripted_llm: Server) -> None:
    llm = scripted_llm([HttpError(400), Reply("now it works")])
    cache = MemoryCache()

    async def main() -> tuple[Any, Any]:
        async with LLMClient(fast(llm.base_url), cache=cache) as client:
            return await client.complete(REQUEST), await client.complete(REQUEST)

    failure, response = run(main)
    assert isinstance(failure, CallFailure) and isinstance(response, ChatResponse)
    assert len(llm.requests) == 2
