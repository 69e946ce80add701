"""Where an LLM-written candidate came from: the call that wrote it, as the run's account keeps it.

A call record is written by the agent and kept by the store, so it lives here, with the
candidate it explains, in a module both may import (no torch, no client).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import Enum


class CallResult(str, Enum):
    """How a call ended, for the run's account: the endpoint's failures, then the answer's."""

    OK = "ok"  # the answer held a candidate
    # The endpoint's (``agent.llm.types.CallOutcome``) values are recorded as they are.
    NO_CODE = "no_code"  # the answer held no usable code (``agent.edits.ParseFailure``)
    DUPLICATE = "duplicate"  # it proposed what the run had already tried
    CANCELLED = "cancelled"  # the run stopped while the call was open


@dataclass(frozen=True)
class CallRecord:
    """One LLM call of a run, as stored. ``outcome`` is ``ok``, a ``CallOutcome`` value, or the
    kind of parse failure; ``reason`` says more for anything but ``ok``."""

    model: str
    role: str
    prompt_hash: str
    prompt: str  # the messages, as JSON
    outcome: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    cost_usd: float = 0.0
    latency_s: float = 0.0
    attempts: int = 0
    tokens_estimated: bool = False
    cached: bool = False
    reason: str = ""
    response: str = ""
    candidate_hash: str | None = None  # the candidate it wrote, if any
    parent_hash: str | None = None
    island: int | None = None  # the island its parent was drawn from (writer calls)
    tips: tuple[str, ...] = ()  # the ids of the optimization tips its prompt carried
    created_at: datetime | None = None
    id: int | None = None

    @property
    def tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True)
class IslandMigration:
    """An elite copied from one island of a run's search to another, kept so a resume rebuilds it."""

    candidate_hash: str
    source: int
    target: int
