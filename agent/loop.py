"""The search loop: propose, dedupe, evaluate in parallel, record, archive; resumable.

One call to ``run_search`` is one run (or the resumption of one). The recorder is the
source of truth: each candidate is added before it is submitted and its result recorded as
soon as it arrives, so a run killed at any point resumes from the recorder's history,
losing nothing and evaluating no candidate twice.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, wait
from dataclasses import dataclass, field
from enum import Enum

from agent.archive import Archive, ArchiveEntry
from agent.protocols import Executor, HistoryEntry, Proposer, RunRecorder
from evaluator.types import EvalResult, Stage, Status
from kernels.candidate import Candidate

MAX_DUPLICATES_IN_A_ROW = 1000


class StopReason(str, Enum):
    BUDGET = "budget"  # the run's total evaluations reached the budget
    EXHAUSTED = "exhausted"  # the proposer had nothing new left to offer
    STOPPED = "stopped"  # should_stop() asked the run to end (cancelled, shutting down)


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
        self.archive = Archive()
        self.seen: set[str] = set()
        self.pending: list[HistoryEntry] = []
        self.in_flight: dict[Future[EvalResult], tuple[int, Candidate]] = {}
        self.replayed = 0
        self.submitted = 0  # history entries with results, plus every submission of this call
        self.evaluated = 0
        self.duplicates_skipped = 0

    def replay(self, history: list[HistoryEntry]) -> None:
        for entry in history:
            self.seen.add(entry.candidate.hash)
            if entry.result is None:
                self.pending.append(entry)
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
            if not self.in_flight:
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
        )

    def fill(self, should_stop: Callable[[], bool]) -> StopReason | None:
        """Submit work until every slot is busy; a reason once the run must end."""
        duplicates = 0
        while len(self.in_flight) < max(1, self.executor.slots):
            if should_stop():
                return StopReason.STOPPED
            if self.submitted >= self.budget:
                return StopReason.BUDGET
            if self.pending:
                entry = self.pending.pop(0)
                self.submit(entry.candidate_id, entry.candidate)
                continue
            candidate = self.proposer.propose(self.archive)
            if candidate is None:
                # With work in flight, its results may give the proposer more to offer.
                return None if self.in_flight else StopReason.EXHAUSTED
            if candidate.hash in self.seen:
                self.duplicates_skipped += 1
                duplicates += 1
                if duplicates >= self.max_duplicates:
                    return None if self.in_flight else StopReason.EXHAUSTED
                continue
            duplicates = 0
            self.seen.add(candidate.hash)
            self.submit(self.recorder.add(candidate), candidate)
        return None

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
        """Wait for at least one result; record, archive and observe every finished one."""
        done, _ = wait(list(self.in_flight), return_when=FIRST_COMPLETED)
        for future in sorted(done, key=lambda f: self.in_flight[f][0]):
            candidate_id, candidate = self.in_flight.pop(future)
            result = _result_of(future)
            self.recorder.record(candidate_id, result)
            self.archive.update(candidate_id, candidate, result)
            self.proposer.observe(candidate, result)
            self.evaluated += 1
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


def _result_of(future: Future[EvalResult]) -> EvalResult:
    try:
        return future.result()
    except (CancelledError, Exception) as exc:  # the executor boundary: a failure becomes a status
        return crashed(f"{type(exc).__name__}: {exc}")
