"""The account of a run's LLM calls: one record per call, the spend so far, and the caps on it.

Every call a proposer makes, answered, failed or served from the cache, becomes a ``CallRecord``
in a ``CallLog`` (the store's ``llm_calls`` table in a real run), so what a run cost is a query,
and a resumed run starts its caps from what it already spent.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from agent.llm.types import ChatResponse
from kernels.provenance import CallRecord, CallResult, IslandMigration

__all__ = ["CallLog", "CallRecord", "CallResult", "Caps", "IslandMigration", "MemoryCallLog", "Spend"]


class CallLog(Protocol):
    """Where a run's calls are kept; the store in a real run."""

    def record(self, call: CallRecord) -> int:
        """Store a call and return its id."""
        ...

    def calls(self) -> list[CallRecord]:
        """This run's calls, oldest first."""
        ...

    def cached(self, prompt_hash: str) -> ChatResponse | None:
        """An earlier answer to the same prompt, from any run, so it is never paid for twice."""
        ...

    def record_migration(self, migration: IslandMigration) -> None:
        """Keep an elite's move between islands, so a resumed run rebuilds its islands."""
        ...

    def migrations(self) -> list[IslandMigration]:
        """This run's island migrations, oldest first."""
        ...


class MemoryCallLog:
    """A CallLog in memory, for a run that keeps no store."""

    def __init__(self) -> None:
        self._calls: list[CallRecord] = []
        self._answers: dict[str, ChatResponse] = {}
        self._migrations: list[IslandMigration] = []

    def record(self, call: CallRecord) -> int:
        self._calls.append(call)
        return len(self._calls)

    def calls(self) -> list[CallRecord]:
        return list(self._calls)

    def cached(self, prompt_hash: str) -> ChatResponse | None:
        return self._answers.get(prompt_hash)

    def record_migration(self, migration: IslandMigration) -> None:
        self._migrations.append(migration)

    def migrations(self) -> list[IslandMigration]:
        return list(self._migrations)

    def remember(self, prompt_hash: str, response: ChatResponse) -> None:
        self._answers[prompt_hash] = response


@dataclass
class Spend:
    """What a run has spent on calls so far."""

    calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def add(self, call: CallRecord) -> None:
        self.calls += 1
        self.failed_calls += call.outcome != CallResult.OK.value
        self.prompt_tokens += call.prompt_tokens
        self.completion_tokens += call.completion_tokens
        self.cost_usd += call.cost_usd

    @classmethod
    def of(cls, calls: Sequence[CallRecord]) -> Spend:
        spend = cls()
        for call in calls:
            spend.add(call)
        return spend


@dataclass(frozen=True)
class Caps:
    """Per-run limits on what calls may use; a run that reaches one stops proposing, cleanly."""

    max_tokens: int | None = None
    max_cost_usd: float | None = None
    max_wall_s: float | None = None
    max_calls: int | None = None

    def reached(self, spend: Spend, wall_s: float) -> str | None:
        """Which cap the spend has reached, with the figures; None while under all of them."""
        if self.max_calls is not None and spend.calls >= self.max_calls:
            return f"call cap reached: {spend.calls} calls of {self.max_calls}"
        if self.max_tokens is not None and spend.tokens >= self.max_tokens:
            return f"token cap reached: {spend.tokens:,} tokens of {self.max_tokens:,}"
        if self.max_cost_usd is not None and spend.cost_usd >= self.max_cost_usd:
            return f"cost cap reached: ${spend.cost_usd:.4f} of ${self.max_cost_usd:.4f}"
        if self.max_wall_s is not None and wall_s >= self.max_wall_s and math.isfinite(wall_s):
            return f"wall-time cap reached: {wall_s:.0f} s of {self.max_wall_s:.0f} s"
        return None


class LogCache:
    """The client's response cache, kept in the run's call log (the store)."""

    def __init__(self, log: CallLog) -> None:
        self._log = log

    def get(self, key: str) -> ChatResponse | None:
        return self._log.cached(key)

    def put(self, key: str, response: ChatResponse) -> None:
        """Nothing to do: every answer is recorded with its call."""


def trailing_fruitless(calls: Sequence[CallRecord]) -> int:
    """Writer calls at the end of the log that wrote no candidate."""
    count = 0
    for call in reversed([c for c in calls if c.role == "writer"]):
        if call.candidate_hash:
            break
        count += 1
    return count


def span_s(calls: Sequence[CallRecord]) -> float:
    stamps = [c.created_at for c in calls if c.created_at is not None]
    return (max(stamps) - min(stamps)).total_seconds() if len(stamps) > 1 else 0.0
