"""The one retry policy for LLM calls, and how each way of failing is named.

Retried: 429, 408, 5xx, connection errors and attempts that ran past their own time limit.
The wait is what the server's ``Retry-After`` asks (capped) when it sends one, otherwise
exponential backoff plus jitter. Not
retried: every other 4xx, since asking again cannot fix a bad request or a wrong key.
Retries stop after ``max_attempts`` or as soon as the next wait would pass the call's
deadline, whichever comes first; the caller also bounds the whole call with a timeout.
"""

from __future__ import annotations

import email.utils
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import openai
from tenacity import RetryCallState, wait_exponential, wait_random

from agent.llm.types import CallOutcome

REASON_CHARS = 300  # how much of an endpoint's error message a reason keeps


class AttemptTimeout(Exception):
    """One attempt got no complete reply within its own time limit."""


class MalformedReply(Exception):
    """The endpoint answered 2xx with something the openai client could not read as a completion."""


def retry_after_s(headers: Mapping[str, str], now: float) -> float | None:
    """Seconds a server asked to wait (``retry-after-ms``, or ``Retry-After`` as seconds or a date)."""
    millis = headers.get("retry-after-ms")
    if millis is not None:
        try:
            value = float(millis) / 1000
            if math.isfinite(value):
                return max(value, 0.0)
        except ValueError:
            pass
    text = headers.get("retry-after")
    if text is None:
        return None
    try:
        value = float(text)
        return max(value, 0.0) if math.isfinite(value) else None
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(when.timestamp() - now, 0.0)


def is_retryable(exc: BaseException) -> bool:
    if isinstance(exc, (AttemptTimeout, openai.APIConnectionError)):
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in (408, 429) or exc.status_code >= 500
    return False


class BackoffWait:
    """Tenacity wait: the server's ``Retry-After`` when it gave one, else exponential plus jitter."""

    def __init__(
        self, initial_s: float, max_s: float, retry_after_cap_s: float, wall_clock: Callable[[], float]
    ):
        self._exponential = wait_exponential(multiplier=initial_s, max=max_s) + wait_random(0, initial_s)
        self._cap_s = retry_after_cap_s
        self._wall_clock = wall_clock

    def __call__(self, retry_state: RetryCallState) -> float:
        exc = retry_state.outcome.exception() if retry_state.outcome is not None else None
        if isinstance(exc, openai.APIStatusError):
            hinted = retry_after_s(exc.response.headers, self._wall_clock())
            if hinted is not None:
                return min(hinted, self._cap_s)
        return float(self._exponential(retry_state))


@dataclass
class StopPolicy:
    """Tenacity stop: out of attempts, or the next wait would end past the deadline.

    ``why`` keeps the reason for the last stop, so a failure can say why retrying ended.
    """

    max_attempts: int
    deadline: float
    clock: Callable[[], float]
    why: str = ""

    def __call__(self, retry_state: RetryCallState) -> bool:
        if retry_state.attempt_number >= self.max_attempts:
            self.why = f"gave up after {retry_state.attempt_number} attempts"
            return True
        wait = retry_state.upcoming_sleep
        if self.clock() + wait >= self.deadline:
            attempts = retry_state.attempt_number
            self.why = f"stopped after {attempts} attempts: a {wait:.1f} s wait would pass the deadline"
            return True
        return False


def _clip(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= REASON_CHARS else text[: REASON_CHARS - 3] + "..."


def classify(exc: BaseException, base_url: str) -> tuple[CallOutcome, str, int | None]:
    """The outcome, a readable reason and the HTTP status (if any) for a failed attempt."""
    if isinstance(exc, AttemptTimeout):
        return CallOutcome.TIMEOUT, str(exc), None
    if isinstance(exc, MalformedReply):
        return CallOutcome.MALFORMED, _clip(f"unreadable reply from {base_url}: {exc}"), 200
    if isinstance(exc, openai.APITimeoutError):
        return CallOutcome.TIMEOUT, f"the request to {base_url} timed out", None
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__ or exc
        detail = f"{type(cause).__name__}: {cause}" if str(cause) else type(cause).__name__
        return CallOutcome.CONNECTION_ERROR, _clip(f"connection to {base_url} failed ({detail})"), None
    if isinstance(exc, openai.APIStatusError):
        status = exc.status_code
        if status == 429:
            outcome = CallOutcome.RATE_LIMITED
        elif status >= 500:
            outcome = CallOutcome.SERVER_ERROR
        elif status in (401, 403):
            outcome = CallOutcome.AUTH_ERROR
        elif status == 408:
            outcome = CallOutcome.TIMEOUT
        else:
            outcome = CallOutcome.BAD_REQUEST
        return outcome, _clip(f"HTTP {status} from {base_url}: {exc.message}"), status
    return (
        CallOutcome.MALFORMED,
        _clip(f"unreadable reply from {base_url}: {type(exc).__name__}: {exc}"),
        None,
    )
