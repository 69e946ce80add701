"""Runs and their problems: creation, lookup, status changes and the run list.

Functions here take an open session and leave committing to the caller (``store.repository``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Integer, case, func, select
from sqlalchemy.orm import Session

from store.errors import RunNotFound
from store.models import CandidateRow, ProblemRow, RunRow, utcnow
from store.records import RunRecord, RunSummary, run_record
from store.status import RunStatus

if TYPE_CHECKING:  # only its attributes are read: no torch for the store
    from kernels.problem import Problem

MAX_SEED = 2**63 - 1  # runs.seed is a signed 64-bit integer on every backend


def problem_row(session: Session, problem: Problem) -> ProblemRow:
    """The stored row for this exact problem (name, source and overrides), created if new.

    A row already stored under another path is reused and its path moved to the newest one,
    since that is where the same source is most likely still found.
    """
    sha = hashlib.sha256(problem.source.encode()).hexdigest()
    overrides = {str(k): int(v) for k, v in problem.overrides.items()}
    key = json.dumps(overrides, sort_keys=True)
    row = session.scalar(
        select(ProblemRow).where(
            ProblemRow.name == problem.name, ProblemRow.source_sha256 == sha, ProblemRow.overrides_key == key
        )
    )
    if row is None:
        row = ProblemRow(
            name=problem.name,
            path=str(problem.path),
            source_sha256=sha,
            source=problem.source,
            overrides=overrides,
            overrides_key=key,
        )
        session.add(row)
        session.flush()
    elif row.path != str(problem.path):
        row.path = str(problem.path)
    return row


def insert_run(
    session: Session,
    problem: Problem,
    *,
    device: str,
    proposer: str,
    budget: int,
    seed: int,
    options: dict[str, Any],
    limits: dict[str, Any] | None = None,
) -> int:
    if not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed {seed} is outside 0..2**63-1, the range the store can keep")
    if budget < 0:
        raise ValueError(f"budget {budget} must be >= 0")
    for what, value in (("options", options), ("limits", limits)):
        try:
            json.dumps(value, allow_nan=False)
        except (TypeError, ValueError) as exc:
            raise ValueError(f"run {what} must be JSON-serializable: {exc}") from None
    run = RunRow(
        problem=problem_row(session, problem),
        status=RunStatus.QUEUED.value,
        device=device,
        proposer=proposer,
        budget=budget,
        seed=seed,
        options=dict(options),
        limits=limits,
    )
    session.add(run)
    session.flush()
    return run.id


def load_run(session: Session, run_id: int) -> RunRow:
    """The run row, or RunNotFound; every run-scoped call starts here."""
    run = session.get(RunRow, run_id)
    if run is None:
        raise RunNotFound(run_id)
    return run


def require_run(session: Session, run_id: int) -> None:
    if session.scalar(select(RunRow.id).where(RunRow.id == run_id)) is None:
        raise RunNotFound(run_id)


def read_run(session: Session, run_id: int) -> RunRecord:
    row = session.execute(
        select(RunRow, ProblemRow)
        .join(ProblemRow, RunRow.problem_id == ProblemRow.id)
        .where(RunRow.id == run_id)
    ).first()
    if row is None:
        raise RunNotFound(run_id)
    return run_record(row[0], row[1])


def update_status(session: Session, run_id: int, status: RunStatus | str, error: str | None) -> None:
    """Set the status and ``error`` (None clears it), stamping the start and finish times.

    ``started_at`` is the first start and survives a resume; ``finished_at`` is set by a terminal
    status and cleared when the run is queued or running again.
    """
    new = RunStatus(status)
    run = load_run(session, run_id)
    now = utcnow()
    run.status = new.value
    run.error = error
    run.updated_at = now
    if new is RunStatus.RUNNING and run.started_at is None:
        run.started_at = now
    run.finished_at = now if new.terminal else None


@dataclass(frozen=True)
class RunFilter:
    """Which runs a listing shows; None matches any."""

    status: RunStatus | None = None
    problem: str | None = None
    device: str | None = None

    def criteria(self) -> list[ColumnElement[bool]]:
        found: list[ColumnElement[bool]] = []
        if self.status is not None:
            found.append(RunRow.status == self.status.value)
        if self.problem is not None:
            found.append(ProblemRow.name == self.problem)
        if self.device is not None:
            found.append(RunRow.device == self.device)
        return found


def count_runs(session: Session, where: RunFilter) -> int:
    query = select(func.count(RunRow.id)).join(ProblemRow, RunRow.problem_id == ProblemRow.id)
    return int(session.scalar(query.where(*where.criteria())) or 0)


def summaries(
    session: Session, limit: int, *, offset: int = 0, where: RunFilter | None = None
) -> list[RunSummary]:
    """Newest runs first, each with its evaluated / ok counts and best real speedup."""
    page = (
        select(RunRow, ProblemRow.name)
        .join(ProblemRow, RunRow.problem_id == ProblemRow.id)
        .where(*(where or RunFilter()).criteria())
        .order_by(RunRow.created_at.desc(), RunRow.id.desc())
        .limit(limit)
        .offset(offset)
    )
    runs = session.execute(page).all()
    ids = [run.id for run, _ in runs]
    # Tallies of this page's runs only, so a listing costs the same however large the store.
    is_ok = CandidateRow.status == "ok"
    timed = is_ok & CandidateRow.interpreted.is_(False) & CandidateRow.suspect.isnot(True)
    stats = (
        {
            run_id: (ok, best)
            for run_id, ok, best in session.execute(
                select(
                    CandidateRow.run_id,
                    func.sum(case((is_ok, 1), else_=0), type_=Integer),
                    func.max(case((timed, CandidateRow.speedup))),
                )
                .where(CandidateRow.run_id.in_(ids))
                .group_by(CandidateRow.run_id)
            )
        }
        if ids
        else {}
    )
    rows = [(run, name, run.verdict_count, *stats.get(run.id, (0, None))) for run, name in runs]
    return [
        RunSummary(
            id=run.id,
            problem_name=name,
            status=RunStatus(run.status),
            device=run.device,
            proposer=run.proposer,
            budget=run.budget,
            evaluated=evaluated_count or 0,
            ok=ok_count or 0,
            best_speedup=best,
            created_at=run.created_at,
        )
        for run, name, evaluated_count, ok_count, best in rows
    ]
