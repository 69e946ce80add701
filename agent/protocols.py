"""The seams between the search loop and the rest of Crucible.

The agent never imports the evaluator's runtime or the store: it talks to them through
these protocols, so the loop runs the same against a sandboxed GPU executor, a Ray
cluster, a SQL store or the in-memory fakes the tests use.
"""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from evaluator.types import EvalResult
from kernels.candidate import Candidate

if TYPE_CHECKING:
    from agent.archive import Archive


@dataclass(frozen=True)
class HistoryEntry:
    """A candidate already stored for this run; ``result`` is None if it was still pending."""

    candidate_id: int
    candidate: Candidate
    result: EvalResult | None


class Executor(Protocol):
    """Runs evaluations, up to ``slots`` at once (one per device slot or Ray GPU).

    A future normally resolves to an EvalResult carrying its own status. It may still
    raise (a broken pool, a lost worker); the loop turns that into a CRASHED result.
    """

    @property
    def slots(self) -> int: ...

    def submit(self, candidate: Candidate) -> Future[EvalResult]: ...


class RunRecorder(Protocol):
    """Where one run's candidates and results are kept; the store is the source of truth.

    The loop adds a candidate before submitting it and records its result as soon as it
    arrives, so a run interrupted at any point resumes without losing or repeating work.
    """

    def history(self) -> list[HistoryEntry]:
        """The candidates already stored for this run, in the order they were added."""
        ...

    def add(self, candidate: Candidate) -> int:
        """Store a pending candidate and return its id."""
        ...

    def record(self, candidate_id: int, result: EvalResult) -> None:
        """Store the result of a candidate previously added."""
        ...


class Proposer(Protocol):
    """Writes candidates: the offline autotuner, or an LLM.

    ``propose`` returns a candidate, a future for one still being written (an LLM call in
    flight), or None when it has nothing to offer given what it has observed so far. A future
    may resolve to None (the call failed, or its answer held no usable code). While work is in
    flight the loop asks again once something arrives (a result may unlock more work); None
    with nothing in flight ends the run.

    Optional attributes the loop reads where a proposer has them:

    * ``lookahead: int``: proposals it may have in the works beyond the free evaluation slots,
      so a slot that frees up finds a candidate ready (0 where absent: asked only for a free slot);
    * ``stopped_because: str | None``: why it has nothing more to offer, when that is a cap
      (tokens, cost, wall time) rather than a search space used up.
    """

    @property
    def name(self) -> str: ...

    def propose(self, archive: Archive) -> Candidate | Future[Candidate | None] | None: ...

    def observe(self, candidate: Candidate, result: EvalResult) -> None: ...
