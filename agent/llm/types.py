"""The values that cross the LLM client's boundary: a request, a reply, or a failure.

A call never raises for anything the endpoint does: it ends in a ``ChatResponse`` or in a
``CallFailure`` whose ``outcome`` says which way it went wrong and whose ``reason`` is short
and precise enough to log, show a user or feed back into a run's bookkeeping.
"""

from __future__ import annotations

import hashlib
import json
import math
from dataclasses import dataclass
from enum import Enum

MESSAGE_ROLES = frozenset({"system", "user", "assistant"})


@dataclass(frozen=True)
class ChatMessage:
    role: str
    content: str

    def __post_init__(self) -> None:
        if self.role not in MESSAGE_ROLES:
            raise ValueError(f"message role must be one of {sorted(MESSAGE_ROLES)}, got {self.role!r}")


@dataclass(frozen=True)
class ChatRequest:
    """One chat completion to make.

    ``role`` says what the call is for in Crucible ("writer", "judge") and is bookkeeping
    only. ``sample`` tells deliberate repeats of one prompt apart: the cache keeps one
    answer per (prompt, sample), so asking for sample 0..k gets k+1 independent answers.
    Neither is sent to the endpoint.
    """

    model: str
    messages: tuple[ChatMessage, ...]
    max_tokens: int = 4096
    temperature: float = 0.7
    role: str = "writer"
    sample: int = 0

    def __post_init__(self) -> None:
        if not self.model:
            raise ValueError("a chat request needs a model")
        if not self.messages:
            raise ValueError("a chat request needs at least one message")
        if self.max_tokens <= 0:
            raise ValueError(f"max_tokens must be positive, got {self.max_tokens}")
        if not math.isfinite(self.temperature) or self.temperature < 0:
            raise ValueError(f"temperature must be a non-negative number, got {self.temperature}")

    def prompt_chars(self) -> int:
        return sum(len(m.content) for m in self.messages)


def prompt_hash(request: ChatRequest) -> str:
    """sha256 over what determines the answer: model, messages, sampling parameters, sample."""
    payload = {
        "model": request.model,
        "messages": [[m.role, m.content] for m in request.messages],
        "max_tokens": request.max_tokens,
        "temperature": request.temperature,
        "sample": request.sample,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def estimate_tokens(chars: int) -> int:
    """A rough token count for when the endpoint reports none: about four characters a token."""
    return (chars + 3) // 4


@dataclass(frozen=True)
class ChatResponse:
    """A completed call. ``cached`` replies cost nothing and made no request (attempts is 0)."""

    text: str
    model: str
    prompt_tokens: int
    completion_tokens: int
    latency_s: float
    attempts: int
    cost_usd: float = 0.0
    tokens_estimated: bool = False
    cached: bool = False
    finish_reason: str | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


class CallOutcome(str, Enum):
    """Why a call produced no usable reply."""

    TIMEOUT = "timeout"
    RATE_LIMITED = "rate_limited"
    SERVER_ERROR = "server_error"
    CONNECTION_ERROR = "connection_error"
    AUTH_ERROR = "auth_error"
    BAD_REQUEST = "bad_request"
    MALFORMED = "malformed"
    EMPTY = "empty"
    TOO_LARGE = "too_large"


@dataclass(frozen=True)
class CallFailure:
    """A call that ended without a usable reply; ``status_code`` is the last HTTP status, if any."""

    outcome: CallOutcome
    reason: str
    model: str
    attempts: int
    latency_s: float
    status_code: int | None = None
