"""Reading Retry-After, what is retried without an endpoint, and the prompt hash the cache keys on."""

from __future__ import annotations

import email.utils

import pytest

from agent.llm.retry import AttemptTimeout, is_retryable, retry_after_s
from agent.llm.types import ChatMessage, ChatRequest, prompt_hash

NOW = 1_700_000_000.0


def test_retry_after_as_seconds_a_date_or_milliseconds() -> None:
    assert retry_after_s({"retry-after": "2"}, NOW) == 2.0
    assert retry_after_s({"retry-after": "0.5"}, NOW) == 0.5
    assert retry_after_s({"retry-after": email.utils.formatdate(NOW + 7, usegmt=True)}, NOW) == pytest.approx(
        7
    )
    assert retry_after_s({"retry-after": email.utils.formatdate(NOW - 60, usegmt=True)}, NOW) == 0.0
    assert retry_after_s({"retry-after-ms": "250", "retry-after": "9"}, NOW) == 0.25
    assert retry_after_s({"retry-after": "-3"}, NOW) == 0.0


@pytest.mark.parametrize("value", ["soon", "", "nan", "inf"])
def test_unreadable_retry_after_is_ignored(value: str) -> None:
    assert retry_after_s({"retry-after": value}, NOW) is None
    assert retry_after_s({}, NOW) is None


def test_only_the_client_side_errors_are_retried_here() -> None:
    # Status codes are checked over HTTP in test_client.py; these need no endpoint.
    assert is_retryable(AttemptTimeout("slow"))
    assert not is_retryable(ValueError("a bug, not the endpoint"))


def test_prompt_hash_covers_what_shapes_the_answer_and_nothing_else() -> None:
    base = ChatRequest("m", (ChatMessage("user", "hi"),), max_tokens=100, temperature=0.5)
    same = ChatRequest("m", (ChatMessage("user", "hi"),), max_tokens=100, temperature=0.5, role="judge")
    assert prompt_hash(base) == prompt_hash(same)
    assert len(prompt_hash(base)) == 64
    variants = [
        ChatRequest("other", base.messages, max_tokens=100, temperature=0.5),
        ChatRequest("m", (ChatMessage("system", "hi"),), max_tokens=100, temperature=0.5),
        ChatRequest("m", (ChatMessage("user", "hi!"),), max_tokens=100, temperature=0.5),
        ChatRequest("m", base.messages, max_tokens=101, temperature=0.5),
        ChatRequest("m", base.messages, max_tokens=100, temperature=0.6),
        ChatRequest("m", base.messages, max_tokens=100, temperature=0.5, sample=1),
    ]
    assert len({prompt_hash(base), *(prompt_hash(v) for v in variants)}) == len(variants) + 1


def test_bad_requests_are_refused_before_any_call() -> None:
    with pytest.raises(ValueError, match="role"):
        ChatMessage("tool", "x")
    with pytest.raises(ValueError, match="at least one message"):
        ChatRequest("m", ())
    with pytest.raises(ValueError, match="max_tokens"):
        ChatRequest("m", (ChatMessage("user", "x"),), max_tokens=0)
