"""An OpenAI-compatible chat client that a misbehaving endpoint cannot crash or wedge.

``LLMClient.complete`` makes one chat completion against any OpenAI-compatible base URL
(OpenAI, vLLM, SGLang, Ollama, llama.cpp server, OpenRouter):

* At most ``max_concurrent`` calls are in progress at once; the rest wait for a slot. A
  call keeps its slot through its backoff waits, so a rate-limited endpoint slows the
  whole client down instead of being hit by the next caller.
* Once a call holds a slot it ends within ``total_timeout_s``, retries included; each
  attempt has its own ``attempt_timeout_s`` too. A stalled endpoint cannot hold a run.
* The retry policy (``agent.llm.retry``) is tenacity's; the openai client's own retries
  are off so there is one policy, not two stacked.
* Endpoint trouble ends in a ``CallFailure``, never an exception. An empty reply or one
  over ``max_response_chars`` is a failure too, and is not retried.
* Token counts come from the reply's ``usage``; without one they are estimated (four
  characters a token) and flagged. Cost comes from the price table.
* A cache, when given, is asked first: a hit makes no request and costs nothing.

``max_tokens`` is sent as ``max_tokens``, the parameter every compatible server accepts.
A client belongs to one event loop: make it inside the loop that uses it.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, cast

import openai
from tenacity import AsyncRetrying, retry_if_exception

from agent.llm.cache import ResponseCache
from agent.llm.models import PriceTable
from agent.llm.retry import AttemptTimeout, BackoffWait, MalformedReply, StopPolicy, classify, is_retryable
from agent.llm.types import (
    CallFailure,
    CallOutcome,
    ChatRequest,
    ChatResponse,
    estimate_tokens,
    prompt_hash,
)

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion, ChatCompletionMessageParam

PLACEHOLDER_API_KEY = "not-needed"  # local servers ignore the key, but the openai client wants one


@dataclass(frozen=True)
class LLMClientConfig:
    base_url: str
    api_key: str | None = None
    max_concurrent: int = 4
    max_attempts: int = 4
    attempt_timeout_s: float = 120.0
    total_timeout_s: float = 300.0
    max_response_chars: int = 200_000
    backoff_initial_s: float = 1.0
    backoff_max_s: float = 30.0
    retry_after_cap_s: float = 60.0

    def __post_init__(self) -> None:
        if self.max_concurrent < 1 or self.max_attempts < 1 or self.max_response_chars < 1:
            raise ValueError("max_concurrent, max_attempts and max_response_chars must be at least 1")
        if min(self.attempt_timeout_s, self.total_timeout_s) <= 0:
            raise ValueError("timeouts must be positive")


@dataclass
class _CallLog:
    """What one call has done so far, kept outside tenacity so a timeout can report it."""

    attempts: int = 0
    last_error: BaseException | None = None


class LLMClient:
    def __init__(
        self,
        config: LLMClientConfig,
        *,
        prices: PriceTable | None = None,
        cache: ResponseCache | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.config = config
        self._prices = prices if prices is not None else PriceTable()
        self._cache = cache
        self._sleep = sleep
        self._clock = clock
        self._wall_clock = wall_clock
        self._slots = asyncio.Semaphore(config.max_concurrent)
        self._openai = openai.AsyncOpenAI(
            base_url=config.base_url,
            api_key=config.api_key or PLACEHOLDER_API_KEY,
            max_retries=0,
            timeout=config.attempt_timeout_s,
        )

    async def __aenter__(self) -> LLMClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._openai.close()

    async def complete(self, request: ChatRequest) -> ChatResponse | CallFailure:
        """One chat completion: a reply, or a failure that says what went wrong."""
        key = prompt_hash(request)
        if self._cache is not None:
            hit = self._cache.get(key)
            if hit is not None:
                return replace(hit, cached=True, cost_usd=0.0, latency_s=0.0, attempts=0)
        async with self._slots:
            result = await self._bounded(request)
        if self._cache is not None and isinstance(result, ChatResponse):
            self._cache.put(key, result)
        return result

    async def _bounded(self, request: ChatRequest) -> ChatResponse | CallFailure:
        start = self._clock()
        log = _CallLog()
        stop = StopPolicy(self.config.max_attempts, start + self.config.total_timeout_s, self._clock)
        retrying = AsyncRetrying(
            sleep=self._sleep,
            stop=stop,
            wait=BackoffWait(
                self.config.backoff_initial_s,
                self.config.backoff_max_s,
                self.config.retry_after_cap_s,
                self._wall_clock,
            ),
            retry=retry_if_exception(is_retryable),
            reraise=True,
        )
        try:
            completion: ChatCompletion = await asyncio.wait_for(
                retrying(self._attempt, request, log), timeout=self.config.total_timeout_s
            )
        except asyncio.TimeoutError:
            return self._timed_out(request, log, self._clock() - start)
        except (openai.OpenAIError, AttemptTimeout, MalformedReply) as exc:
            outcome, reason, status = classify(exc, self.config.base_url)
            if stop.why and is_retryable(exc):
                reason = f"{reason}; {stop.why}"
            return CallFailure(outcome, reason, request.model, log.attempts, self._clock() - start, status)
        return self._read(request, completion, log.attempts, self._clock() - start)

    async def _attempt(self, request: ChatRequest, log: _CallLog) -> ChatCompletion:
        log.attempts += 1
        limit = self.config.attempt_timeout_s
        messages = cast(
            "list[ChatCompletionMessageParam]",
            [{"role": m.role, "content": m.content} for m in request.messages],
        )
        try:
            return await asyncio.wait_for(
                self._openai.chat.completions.create(
                    model=request.model,
                    messages=messages,
                    max_tokens=request.max_tokens,
                    temperature=request.temperature,
                    timeout=limit,
                ),
                timeout=limit,
            )
        except asyncio.TimeoutError:
            log.last_error = AttemptTimeout(f"attempt {log.attempts} got no reply within {limit:g} s")
            raise log.last_error from None
        except openai.OpenAIError as exc:
            log.last_error = exc
            raise
        except (ValueError, TypeError, KeyError, AttributeError) as exc:
            # The openai client parses the body itself: JSON or schema errors surface as these.
            log.last_error = MalformedReply(f"{type(exc).__name__}: {exc}")
            raise log.last_error from exc

    def _timed_out(self, request: ChatRequest, log: _CallLog, elapsed: float) -> CallFailure:
        bound = self.config.total_timeout_s
        reason = f"no reply within the {bound:g} s bound on the whole call ({log.attempts} attempts"
        status = None
        if log.last_error is not None:
            _, last, status = classify(log.last_error, self.config.base_url)
            reason += f"; last: {last}"
        return CallFailure(CallOutcome.TIMEOUT, reason + ")", request.model, log.attempts, elapsed, status)

    def _read(
        self, request: ChatRequest, completion: Any, attempts: int, elapsed: float
    ) -> ChatResponse | CallFailure:
        """Turn a parsed completion into a reply, or a failure if it is empty, too large or malformed."""

        def fail(outcome: CallOutcome, reason: str) -> CallFailure:
            return CallFailure(outcome, reason, request.model, attempts, elapsed, 200)

        choices = getattr(completion, "choices", None)
        if not isinstance(choices, list):
            return fail(
                CallOutcome.MALFORMED, f"the reply from {self.config.base_url} is not a chat completion"
            )
        if not choices or choices[0].message is None:
            return fail(CallOutcome.EMPTY, "the reply has no choices")
        text = choices[0].message.content
        if not isinstance(text, str) or not text.strip():
            return fail(CallOutcome.EMPTY, "the reply's message has no content")
        limit = self.config.max_response_chars
        if len(text) > limit:
            return fail(
                CallOutcome.TOO_LARGE, f"the reply has {len(text)} characters, over the {limit} limit"
            )
        usage = completion.usage
        estimated = usage is None or usage.prompt_tokens is None or usage.completion_tokens is None
        if estimated:
            prompt_tokens = estimate_tokens(request.prompt_chars())
            completion_tokens = estimate_tokens(len(text))
        else:
            prompt_tokens, completion_tokens = int(usage.prompt_tokens), int(usage.completion_tokens)
        return ChatResponse(
            text=text,
            model=request.model,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=elapsed,
            attempts=attempts,
            cost_usd=self._prices.cost_usd(request.model, prompt_tokens, completion_tokens),
            tokens_estimated=estimated,
            finish_reason=choices[0].finish_reason,
        )
