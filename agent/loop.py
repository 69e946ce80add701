"""The search loop: propose, dedupe, evaluate in parallel, record, archive; resumable.

One call to ``run_search`` is one run (or the resumption of one). The recorder is the
source of truth: each candidate is added before it is submitted and its result recorded as
soon as it arrives, so a run killed at any point resumes from the recorder's history,
losing nothing and evaluating no candidate twice.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from agent.archive import Archive, ArchiveEntry
from agent.protocols import Executor, HistoryEntry, Proposer, RunRecorder
from evaluator.types import EvalResult, Stage, Status
from kernels.candidate import Candidate

MAX_DUPLICATES_IN_A_ROW = 1000


class StopReason(str, Enum):
    BUDGET = "budget"  # the run's total evaluations reached the budget
    EXHAUSTED = "exhausted"  # the proposer had nothing new left to offer
    STOPPED = "stopped"  # should_stop() asked the run to end (cancelled, shutting down)
    CAP = "cap"  # the proposer reached a cap on tokens, cost or wall time (``SearchOutcome.detail``)


class EventKind(str, Enum):
    STARTED = "started"  # history replayed; nothing submitted yet
    SUBMITTED = "submitted"  # a candidate was added to the recorder and sent to the executor
    RESULT = "result"  # a result arrived and was recorded
    FINISHED = "finished"  # nothing is in flight any more


@dataclass(frozen=True)
class SearchEvent:
    """Progress, for a CLI progress bar or a worker's heartbeat.

    ``evaluated`` counts results of the whole run, history included, out of ``budget``.
    """

    kind: EventKind
    evaluated: int
    budget: int
    in_flight: int
    best: ArchiveEntry | None
    candidate_id: int | None = None
    candidate: Candidate | None = None
    result: EvalResult | None = None
    stopped_reason: StopReason | None = None


@dataclass(frozen=True)
class SearchOutcome:
    """What a run ended with; ``evaluated`` includes results replayed from history."""

    evaluated: int
    newly_evaluated: int
    stopped_reason: StopReason
    best: ArchiveEntry | None
    pareto: tuple[ArchiveEntry, ...]
    status_counts: dict[Status, int] = field(default_factory=dict)
    duplicates_skipped: int = 0
    archive: Archive = field(default_factory=Archive, compare=False, repr=False)
    detail: str | None = None  # for a cap: which one, and the figures


def crashed(reason: str) -> EvalResult:
    """The result given to an evaluation whose executor failed rather than returning a verdict."""
    return EvalResult(status=Status.CRASHED, stage=Stage.LOAD, reason=f"executor failed: {reason}")


def run_search(
    proposer: Proposer,
    executor: Executor,
    recorder: RunRecorder,
    budget: int,
    *,
    on_event: Callable[[SearchEvent], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    max_duplicates: int = MAX_DUPLICATES_IN_A_ROW,
) -> SearchOutcome:
    """Run (or resume) a search until ``budget`` evaluations in all, exhaustion, or a stop.

    History is replayed first: finished entries go into the archive and to
    ``proposer.observe``; entries still pending are evaluated before anything new, under
    their stored ids. A proposal whose hash was already seen in this run is skipped without
    using budget; ``max_duplicates`` of them in a row (with no result arriving in between)
    end the run as exhausted. Up to
    ``executor.slots`` evaluations are kept in flight. After a stop, results already in
    flight are awaited and recorded.
    """
    search = _Search(proposer, executor, recorder, budget, on_event, max_duplicates)
    search.replay(recorder.history())
    return search.run(should_stop or (lambda: False))


class _Search:
    """The mutable state of one run_search call."""

    def __init__(
        self,
        proposer: Proposer,
        executor: Executor,
        recorder: RunRecorder,
        budget: int,
        on_event: Callable[[SearchEvent], None] | None,
        max_duplicates: int,
    ) -> None:
        self.proposer = proposer
        self.executor = executor
        self.recorder = recorder
        self.budget = budget
        self.on_event = on_event
        self.max_duplicates = max_duplicates
        self.lookahead = max(0, int(getattr(proposer, "lookahead", 0)))
        self.archive = Archive()
        self.seen: set[str] = set()
        # Stored and waiting for a slot: history's pending entries, then accepted proposals.
        self.pending: deque[tuple[int, Candidate]] = deque()
        self.in_flight: dict[Future[EvalResult], tuple[int, Candidate]] = {}
        self.proposals: set[Future[Candidate | None]] = set()  # candidates still being written
        self.replayed = 0
        self.submitted = 0  # history entries with results, plus every submission of this call
        self.evaluated = 0
        self.duplicates_skipped = 0
        self.duplicate_streak = 0  # duplicates in a row, with no result in between

    def replay(self, history: list[HistoryEntry]) -> None:
        for entry in history:
            self.seen.add(entry.candidate.hash)
            if entry.result is None:
                self.pending.append((entry.candidate_id, entry.candidate))
                continue
            self.archive.update(entry.candidate_id, entry.candidate, entry.result)
            self.proposer.observe(entry.candidate, entry.result)
            self.replayed += 1
        self.submitted = self.evaluated = self.replayed

    def run(self, should_stop: Callable[[], bool]) -> SearchOutcome:
        self.emit(EventKind.STARTED)
        reason: StopReason | None = None
        while True:
            if reason is None:
                reason = self.fill(should_stop)
            if reason is StopReason.STOPPED:
                for proposal in self.proposals:
                    proposal.cancel()  # a stop does not wait on a model: its answer would go unused
                self.proposals.clear()
            if not self.in_flight and not self.proposals:
                break
            self.collect()
        final = reason or StopReason.EXHAUSTED
        self.emit(EventKind.FINISHED, stopped_reason=final)
        return SearchOutcome(
            evaluated=self.evaluated,
            newly_evaluated=self.evaluated - self.replayed,
            stopped_reason=final,
            best=self.archive.best(),
            pareto=tuple(self.archive.pareto()),
            status_counts=self.archive.status_counts(),
            duplicates_skipped=self.duplicates_skipped,
            archive=self.archive,
            detail=getattr(self.proposer, "stopped_because", None) if final is StopReason.CAP else None,
        )

    def free_slots(self) -> int:
        return max(1, self.executor.slots) - len(self.in_flight)

    def fill(self, should_stop: Callable[[], bool]) -> StopReason | None:
        """Submit work until every slot is busy and enough proposals are in the works; a reason
        once the run must end."""
        while True:
            if should_stop():
                return StopReason.STOPPED
            while self.free_slots() > 0 and self.pending and self.submitted < self.budget:
                self.submit(*self.pending.popleft())
            if self.submitted >= self.budget:
                return StopReason.BUDGET
            if not self.may_ask():
                return None
            proposal = self.proposer.propose(self.archive)
            if proposal is None:
                if self.in_flight or self.proposals:
                    return None  # what arrives may give the proposer more to offer
                return (
                    StopReason.CAP
                    if getattr(self.proposer, "stopped_because", None)
                    else StopReason.EXHAUSTED
                )
            if isinstance(proposal, Future):
                self.proposals.add(proposal)
            else:
                self.accept(proposal)
            if self.duplicate_streak >= self.max_duplicates:
                return None if self.in_flight or self.proposals else StopReason.EXHAUSTED

    def may_ask(self) -> bool:
        """Whether to ask the proposer for more now: for a free slot, or to keep its lookahead
        filled, and never for more than the budget can still take."""
        waiting = len(self.pending) + len(self.proposals)
        if self.submitted + waiting >= self.budget:
            return False
        if self.duplicate_streak >= self.max_duplicates:
            return False
        return waiting < self.free_slots() + self.lookahead

    def accept(self, candidate: Candidate) -> None:
        """A proposal that is new to this run is stored at once, so a stop cannot lose it."""
        if candidate.hash in self.seen:
            self.duplicates_skipped += 1
            self.duplicate_streak += 1
            return
        self.seen.add(candidate.hash)
        self.pending.append((self.recorder.add(candidate), candidate))

    def submit(self, candidate_id: int, candidate: Candidate) -> None:
        try:
            future = self.executor.submit(candidate)
        except Exception as exc:  # the executor boundary: a failure becomes a status
            future = Future()
            future.set_exception(exc)
        self.in_flight[future] = (candidate_id, candidate)
        self.submitted += 1
        self.emit(EventKind.SUBMITTED, candidate_id=candidate_id, candidate=candidate)

    def collect(self) -> None:
        """Wait for a result or a proposal; record, archive and observe every finished one."""
        waiting: list[Future[Any]] = [*self.in_flight, *self.proposals]
        done, _ = wait(waiting, return_when=FIRST_COMPLETED)
        for proposal in [f for f in done if f in self.proposals]:
            self.proposals.discard(proposal)
            candidate = _proposal_of(proposal)
            if candidate is not None:
                self.accept(candidate)
        evaluations = [f for f in done if f in self.in_flight]
        for future in sorted(evaluations, key=lambda f: self.in_flight[f][0]):
            candidate_id, candidate = self.in_flight.pop(future)
            result = _result_of(future)
            self.recorder.record(candidate_id, result)
            self.archive.update(candidate_id, candidate, result)
            self.proposer.observe(candidate, result)
            self.evaluated += 1
            self.duplicate_streak = 0
            self.emit(EventKind.RESULT, candidate_id=candidate_id, candidate=candidate, result=result)

    def emit(
        self,
        kind: EventKind,
        *,
        candidate_id: int | None = None,
        candidate: Candidate | None = None,
        result: EvalResult | None = None,
        stopped_reason: StopReason | None = None,
    ) -> None:
        if self.on_event is None:
            return
        self.on_event(
            SearchEvent(
                kind=kind,
                evaluated=self.evaluated,
                budget=self.budget,
                in_flight=len(self.in_flight),
                best=self.archive.best(),
                candidate_id=candidate_id,
                candidate=candidate,
                result=result,
                stopped_reason=stopped_reason,
            )
        )


def _proposal_of(future: Future[Candidate | None]) -> Candidate | None:
    """What a proposal in the works came to; a proposer's failure there is its own to record."""
    try:
        return future.result()
    except (CancelledError, Exception):  # the proposer boundary: nothing to evaluate
        return None


def _result_of(future: Future[EvalResult]) -> EvalResult:
    try:
        return future.result()
    except (CancelledError, Exception) as exc:  # the executor boundary: a failure becomes a status
        return crashed(f"{type(exc).__name__}: {exc}")
