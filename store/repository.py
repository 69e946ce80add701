"""``Store``: the one entry point to Crucible's database.

Each call runs in its own short session and transaction and returns frozen records, so no
ORM object, lazy load or open transaction escapes to the search loop, the service or the
dashboard. Writes take SQLite's write lock at BEGIN (see ``store.engine``), which keeps
several local processes on one SQLite file safe; PostgreSQL serves scale-out.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import datetime
from types import TracebackType
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session

from evaluator.types import EvalResult
from kernels.candidate import Candidate
from kernels.provenance import CallRecord, IslandMigration
from store import candidates as _candidates
from store import llm_calls as _llm_calls
from store import queries as _queries
from store import queue as _queue
from store import runs as _runs
from store import search_views as _search_views
from store import views as _views
from store.engine import make_engine, normalize_url, session_factory, upgrade, writer
from store.models import CandidateRow
from store.queue import DEFAULT_MAX_FAILURES, Lease
from store.read_cache import RunReadCache
from store.records import CandidateRecord, RunProgress, RunRecord, RunSummary
from store.runs import RunFilter
from store.search_views import RunSearch
from store.status import RunStatus
from store.views import RunCharts, RunTally

if TYPE_CHECKING:  # only its attributes are read: no torch for the store
    from kernels.problem import Problem


class Store:
    """Runs, candidates and verdicts in a SQL database (SQLite or PostgreSQL).

    Opening a store migrates its database to the newest schema (a no-op when it is current),
    so a fresh URL is ready to use. Nothing connects until a Store is constructed.
    """

    def __init__(self, url: str | URL, *, migrate: bool = True, **engine_kwargs: Any) -> None:
        self.url = normalize_url(url)
        self._engine = make_engine(self.url, **engine_kwargs)
        try:
            if migrate:
                upgrade(self._engine)
        except BaseException:
            self._engine.dispose()
            raise
        self._reader = session_factory(self._engine)
        self._writer = session_factory(writer(self._engine))
        self._cache = RunReadCache()

    def __repr__(self) -> str:
        return f"Store({self.url.render_as_string(hide_password=True)!r})"

    @property
    def engine(self) -> Engine:
        """The underlying engine, for tools that need raw SQL (read it, do not write through it)."""
        return self._engine

    def close(self) -> None:
        """Close pooled connections; the store must not be used afterwards."""
        self._engine.dispose()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    @contextmanager
    def _reading(self) -> Iterator[Session]:
        """One consistent snapshot for the whole call."""
        with self._reader() as session, session.begin():
            yield session

    @contextmanager
    def _writing(self) -> Iterator[Session]:
        """One transaction that commits on success and rolls back on any error."""
        with self._writer.begin() as session:
            yield session

    # -- runs ---------------------------------------------------------------------------------

    def create_run(
        self,
        problem: Problem,
        *,
        device: str,
        proposer: str,
        budget: int,
        seed: int,
        options: Mapping[str, Any] | None = None,
        limits: Mapping[str, Any] | None = None,
    ) -> int:
        """Queue a run of ``problem``; the problem row is shared with earlier runs of the same source.

        ``limits`` are the evaluator limits its candidates are judged by, kept with the run."""
        with self._writing() as session:
            return _runs.insert_run(
                session,
                problem,
                device=device,
                proposer=proposer,
                budget=budget,
                seed=seed,
                options=dict(options or {}),
                limits=dict(limits) if limits is not None else None,
            )

    def get_run(self, run_id: int) -> RunRecord:
        """The run and its problem; RunNotFound if there is no such run."""
        with self._reading() as session:
            return _runs.read_run(session, run_id)

    def run_progress(self, run_id: int) -> RunProgress:
        """The run, its verdict counts, its best candidate and its LLM account, in one snapshot."""
        with self._reading() as session:
            run = _runs.read_run(session, run_id)
            verdicts = run.verdict_count
            best = self._cache.get(run_id, verdicts, "best", lambda: _queries.best_candidate(session, run_id))
            llm_ok = self._cache.get(
                run_id, verdicts, "llm_ok", lambda: _candidates.llm_ok_count(session, run_id)
            )
            calls = _llm_calls.call_counts(session, run_id)
            return RunProgress(run, verdicts, llm_ok, best, calls)

    def set_run_status(self, run_id: int, status: RunStatus | str, error: str | None = None) -> None:
        """Move a run to ``status``, replacing its error (None clears it) and stamping start/finish."""
        with self._writing() as session:
            _runs.update_status(session, run_id, status, error)

    def list_runs(self, limit: int = 50) -> list[RunSummary]:
        """The newest ``limit`` runs, newest first, with their progress."""
        with self._reading() as session:
            return _runs.summaries(session, limit)

    def runs_page(
        self, where: RunFilter | None = None, *, limit: int = 50, offset: int = 0
    ) -> tuple[list[RunSummary], int]:
        """One page of the runs that match, newest first, and how many match in all."""
        where = where or RunFilter()
        with self._reading() as session:
            return _runs.summaries(session, limit, offset=offset, where=where), _runs.count_runs(
                session, where
            )

    # -- the queue ----------------------------------------------------------------------------

    def claim_run(
        self, worker: str, lease_s: float, *, max_failures: int = DEFAULT_MAX_FAILURES
    ) -> Lease | None:
        """Take the oldest queued run (or a dead worker's) under a lease; None when none waits."""
        with self._writing() as session:
            return _queue.claim(session, worker, lease_s, max_failures=max_failures)

    def renew_lease(self, run_id: int, worker: str, lease_s: float) -> Lease:
        """The worker's heartbeat: extend its lease, and learn whether to stop."""
        with self._writing() as session:
            return _queue.renew(session, run_id, worker, lease_s)

    def release_run(self, run_id: int, worker: str) -> bool:
        """Clear the worker's lease on a run whose status it has set."""
        with self._writing() as session:
            return _queue.release(session, run_id, worker)

    def hand_back_run(
        self,
        run_id: int,
        worker: str,
        failure: str | None = None,
        *,
        max_failures: int = DEFAULT_MAX_FAILURES,
    ) -> RunStatus | None:
        """Put a held run back in the queue (drained, or failed: counted, and failed for good at
        ``max_failures`` alike); the status it ended in, None if the worker no longer held it."""
        with self._writing() as session:
            return _queue.hand_back(session, run_id, worker, failure, max_failures=max_failures)

    def request_cancel(self, run_id: int) -> RunStatus:
        """Cancel a queued run now, or ask a running one's worker to stop; its status after."""
        with self._writing() as session:
            return _queue.request_cancel(session, run_id)

    def cancel_requested(self, run_id: int) -> bool:
        with self._reading() as session:
            return _queue.cancel_requested(session, run_id)

    def queue_depth(self) -> int:
        """Runs waiting for a worker."""
        with self._reading() as session:
            return _queue.depth(session)

    def running_heartbeats(self) -> dict[int, datetime | None]:
        """Each running run's last lease renewal, by run id."""
        with self._reading() as session:
            return _queue.heartbeats(session)

    # -- candidates ---------------------------------------------------------------------------

    def add_candidate(
        self,
        run_id: int,
        candidate: Candidate,
        parent_id: int | None = None,
        descriptor: Mapping[str, str] | None = None,
    ) -> int:
        """Store a pending candidate (with its MAP-Elites bins, when known) and return its id; a
        hash already in the run returns that id."""
        with self._writing() as session:
            return _candidates.insert_candidate(session, run_id, candidate, parent_id, descriptor)

    def record_result(self, candidate_id: int, result: EvalResult) -> None:
        """Store the verdict and one row per shape, atomically; ResultAlreadyRecorded on a second one."""
        with self._writing() as session:
            _candidates.write_result(session, candidate_id, result)

    def candidates(self, run_id: int) -> list[CandidateRecord]:
        """Every candidate of the run, oldest first."""
        with self._reading() as session:
            return _candidates.run_candidates(session, run_id)

    def candidates_page(self, run_id: int, limit: int, offset: int = 0) -> tuple[list[CandidateRecord], int]:
        """A page of the run's candidates, oldest first, and how many there are in all."""
        with self._reading() as session:
            return _candidates.candidates_page(session, run_id, limit, offset)

    def get_candidate(self, candidate_id: int) -> CandidateRecord:
        """One candidate with its verdict; CandidateNotFound if there is no such candidate."""
        with self._reading() as session:
            return _candidates.read_candidate(session, candidate_id)

    def find_candidate(self, run_id: int, hash: str) -> CandidateRecord | None:
        """The run's candidate with this identity hash, if any."""
        with self._reading() as session:
            return _candidates.lookup_candidate(session, run_id, hash)

    def evaluated_hashes(self, run_id: int) -> set[str]:
        """Hashes that already have a verdict in this run: the search never evaluates them again."""
        with self._reading() as session:
            return _candidates.hashes_evaluated(session, run_id)

    def pending_candidates(self, run_id: int) -> list[CandidateRecord]:
        """Candidates stored but not yet judged, oldest first: what a resumed run evaluates first."""
        with self._reading() as session:
            return _candidates.run_candidates(session, run_id, CandidateRow.status.is_(None))

    def count_evaluated(self, run_id: int) -> int:
        """How many candidates of the run have a verdict, to weigh against its budget."""
        with self._reading() as session:
            return _candidates.evaluated_count(session, run_id)

    # -- LLM calls ----------------------------------------------------------------------------

    def add_llm_call(self, run_id: int, call: CallRecord) -> int:
        """Store one LLM call of the run, as soon as it ended; returns its id."""
        with self._writing() as session:
            return _llm_calls.insert_call(session, run_id, call)

    def llm_calls(self, run_id: int) -> list[CallRecord]:
        """The run's LLM calls, oldest first."""
        with self._reading() as session:
            return _llm_calls.run_calls(session, run_id)

    def llm_call_that_wrote(self, run_id: int, candidate_hash: str) -> CallRecord | None:
        """The LLM call whose answer became this candidate of the run, if any."""
        with self._reading() as session:
            return _llm_calls.writer_of(session, run_id, candidate_hash)

    def answered_llm_call(self, prompt_hash: str) -> CallRecord | None:
        """The newest answered call with this prompt, from any run: the response cache."""
        with self._reading() as session:
            return _llm_calls.answered(session, prompt_hash)

    def llm_call_counts(self, run_id: int) -> tuple[int, int, int, int, float]:
        """(calls, failed calls, prompt tokens, completion tokens, cost in USD) of the run."""
        with self._reading() as session:
            return _llm_calls.call_counts(session, run_id)

    def add_island_migration(self, run_id: int, migration: IslandMigration) -> None:
        """Store an elite's move between islands of the run's LLM search."""
        with self._writing() as session:
            _llm_calls.insert_migration(session, run_id, migration)

    def island_migrations(self, run_id: int) -> list[IslandMigration]:
        """The run's island migrations, oldest first."""
        with self._reading() as session:
            return _llm_calls.run_migrations(session, run_id)

    # -- queries ------------------------------------------------------------------------------

    def leaderboard(self, run_id: int, limit: int = 10) -> list[CandidateRecord]:
        """Ok, really-timed candidates by speedup, best first."""
        with self._reading() as session:
            return _queries.leaderboard(session, run_id, limit)

    def best_candidate(self, run_id: int) -> CandidateRecord | None:
        """The leaderboard's top, else the most accurate ok candidate, else None."""
        with self._reading() as session:
            verdicts = _candidates.evaluated_count(session, run_id)
            return self._cache.get(run_id, verdicts, "best", lambda: _queries.best_candidate(session, run_id))

    def config_siblings(self, candidate: CandidateRecord, limit: int = 500) -> list[CandidateRecord]:
        """The run's timed candidates of the same source under other configs, fastest first."""
        with self._reading() as session:
            return _queries.config_siblings(session, candidate, limit)

    def pareto(self, run_id: int) -> list[CandidateRecord]:
        """The Pareto front over (latency_us, max_abs_err, peak_mem_bytes), fastest first."""
        with self._reading() as session:
            verdicts = _candidates.evaluated_count(session, run_id)  # RunNotFound for a missing run
            return list(self._cache.get(run_id, verdicts, "front", lambda: _queries.pareto(session, run_id)))

    def run_charts(self, run_id: int) -> RunCharts:
        """What the dashboard draws for a run (``store.views``), kept until its next verdict."""
        with self._reading() as session:
            verdicts = _candidates.evaluated_count(session, run_id)  # RunNotFound for a missing run
            return self._cache.get(run_id, verdicts, "charts", lambda: _views.run_charts(session, run_id))

    def run_search(self, run_id: int, x: str | None = None, y: str | None = None) -> RunSearch:
        """The run's archive grid over descriptors ``x`` and ``y`` (sensible ones when not given or
        unknown), islands, lineage of its best and model preferences, kept until its next verdict."""
        with self._reading() as session:
            verdicts = _candidates.evaluated_count(session, run_id)
            return self._cache.get(
                run_id, verdicts, f"search:{x}:{y}", lambda: _search_views.run_search(session, run_id, x, y)
            )

    def run_tallies(self, run_ids: Sequence[int]) -> dict[int, RunTally]:
        """Verdicts by status and LLM cost of these runs: the dashboard's runs overview."""
        with self._reading() as session:
            return _views.run_tallies(session, run_ids)

    def devices(self) -> list[str]:
        """The devices runs were made for."""
        with self._reading() as session:
            return _views.devices(session)

    def lineage(self, candidate_id: int) -> list[CandidateRecord]:
        """The candidate's ancestors, root first and direct parent last (itself excluded)."""
        with self._reading() as session:
            return _queries.lineage(session, candidate_id)
