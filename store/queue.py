"""The runs table as the job queue: workers claim runs under leases they renew by heartbeat.

A run is claimable when it is ``queued``, or ``running`` under a lease that has expired (its
worker died, SIGKILL included, or lost the database). A claim is one write transaction: on
PostgreSQL the candidate row is locked ``FOR UPDATE SKIP LOCKED``, so racing workers each take
a different run without waiting on each other; on SQLite a write transaction is ``BEGIN
IMMEDIATE``, which serializes the claimers, and the update re-checks the row's state. Either way
two workers never hold the same run.

Failures count per run: a claim that ends in a failure (an exception, or a lease that expired
because the worker vanished) with the same reason as the claim before adds to the run's
``failure_streak``; at ``max_failures`` the run is marked ``failed`` instead of going back to
the queue, so a run that kills its worker is not retried forever.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from store.models import RunRow, utcnow
from store.runs import load_run
from store.status import RunStatus

DEFAULT_MAX_FAILURES = 3
LOST_WORKER = "its worker stopped renewing the lease (killed, or cut off from the database)"


@dataclass(frozen=True)
class Lease:
    """What a worker holds: a run, until ``expires_at``; ``cancel_requested`` asks it to stop."""

    run_id: int
    worker: str
    expires_at: datetime
    cancel_requested: bool = False
    held: bool = True


def _claimable(now: datetime) -> tuple[Select[RunRow], ...]:
    """Where a claim looks, in turn: a dead worker's run first (it waited longest), then the queue.
    Two plain queries, each served by an index, rather than one OR that is not."""
    expired = select(RunRow).where(RunRow.status == RunStatus.RUNNING.value, RunRow.lease_expires_at < now)
    queued = select(RunRow).where(RunRow.status == RunStatus.QUEUED.value)
    return expired, queued


def claim(
    session: Session, worker: str, lease_s: float, *, max_failures: int = DEFAULT_MAX_FAILURES
) -> Lease | None:
    """Claim the oldest claimable run for ``worker``; None when there is none.

    A run reclaimed from a dead worker counts that as a failure; one that reaches
    ``max_failures`` that way is marked failed and the next run is tried.
    """
    while True:
        now = utcnow()
        run = None
        for query in _claimable(now):
            run = session.scalars(
                query.order_by(RunRow.id).limit(1).with_for_update(skip_locked=True)
            ).first()
            if run is not None:
                break
        if run is None:
            return None
        dead_worker = run.status == RunStatus.RUNNING.value
        if dead_worker and _count_failure(run, LOST_WORKER) >= max_failures:
            _fail(run, now, max_failures)
            session.flush()
            continue
        run.status = RunStatus.RUNNING.value
        run.claimed_by = worker
        run.claims += 1
        run.heartbeat_at = now
        run.lease_expires_at = now + timedelta(seconds=lease_s)
        run.updated_at = now
        if run.started_at is None:
            run.started_at = now
        run.finished_at = None
        session.flush()
        return Lease(run.id, worker, run.lease_expires_at, run.cancel_requested)


def renew(session: Session, run_id: int, worker: str, lease_s: float) -> Lease:
    """Extend ``worker``'s lease; ``held`` is False when the run is no longer its own (it was
    reclaimed after the lease expired, or finished), and the worker must stop at once."""
    run = load_run(session, run_id)
    now = utcnow()
    if run.claimed_by != worker or run.status != RunStatus.RUNNING.value:
        return Lease(run_id, worker, now, run.cancel_requested, held=False)
    run.heartbeat_at = now
    run.lease_expires_at = now + timedelta(seconds=lease_s)
    return Lease(run_id, worker, run.lease_expires_at, run.cancel_requested)


def release(session: Session, run_id: int, worker: str) -> bool:
    """Let go of a run whose status the worker has already set (finished, cancelled, queued
    again after a drain); False if the worker no longer held it."""
    run = load_run(session, run_id)
    if run.claimed_by != worker:
        return False
    run.claimed_by = None
    run.lease_expires_at = None
    if run.status != RunStatus.FAILED.value and RunStatus(run.status).terminal:
        run.failure_streak = 0
        run.last_failure = None
    return True


def hand_back(
    session: Session,
    run_id: int,
    worker: str,
    failure: str | None,
    *,
    max_failures: int = DEFAULT_MAX_FAILURES,
) -> RunStatus | None:
    """Return a run to the queue: after a drain (``failure`` None), or after a failure, which is
    counted; at ``max_failures`` in a row of the same failure the run is marked failed. None if
    the worker no longer held the run."""
    run = load_run(session, run_id)
    if run.claimed_by != worker:
        return None
    now = utcnow()
    run.claimed_by = None
    run.lease_expires_at = None
    run.updated_at = now
    if run.cancel_requested:
        run.status = RunStatus.CANCELLED.value
        run.finished_at = now
        return RunStatus.CANCELLED
    if failure is not None and _count_failure(run, failure) >= max_failures:
        _fail(run, now, max_failures)
        return RunStatus.FAILED
    run.status = RunStatus.QUEUED.value
    run.finished_at = None
    return RunStatus.QUEUED


def request_cancel(session: Session, run_id: int) -> RunStatus:
    """Cancel a run: a queued one at once, a running one by asking its worker (it stops within
    a heartbeat). A finished run keeps its status."""
    run = load_run(session, run_id)
    status = RunStatus(run.status)
    if status.terminal:
        return status
    if status is RunStatus.QUEUED:
        now = utcnow()
        run.status = RunStatus.CANCELLED.value
        run.finished_at = run.updated_at = now
        run.error = "cancelled before a worker claimed it"
        return RunStatus.CANCELLED
    run.cancel_requested = True
    return status


def cancel_requested(session: Session, run_id: int) -> bool:
    return bool(session.scalar(select(RunRow.cancel_requested).where(RunRow.id == run_id)))


def depth(session: Session) -> int:
    """Runs waiting for a worker."""
    return int(
        session.scalar(select(func.count(RunRow.id)).where(RunRow.status == RunStatus.QUEUED.value)) or 0
    )


def _count_failure(run: RunRow, reason: str) -> int:
    """Record a failed claim; returns the streak of this same failure."""
    run.failure_streak = run.failure_streak + 1 if run.last_failure == reason else 1
    run.last_failure = reason
    run.error = reason
    return run.failure_streak


def _fail(run: RunRow, now: datetime, max_failures: int) -> None:
    run.status = RunStatus.FAILED.value
    run.error = f"failed the same way on {max_failures} claims in a row: {run.last_failure}"
    run.claimed_by = None
    run.lease_expires_at = None
    run.finished_at = run.updated_at = now


def heartbeats(session: Session) -> dict[int, datetime | None]:
    """Each running run's last renewal: one that never moves again is a dead worker's, and
    becomes claimable when its lease lapses."""
    rows = session.execute(
        select(RunRow.id, RunRow.heartbeat_at).where(RunRow.status == RunStatus.RUNNING.value)
    )
    return {run_id: beat for run_id, beat in rows}
