"""Candidates of a run: adding them once, recording their verdict once, and reading them back.

Functions here take an open session; ``store.repository`` owns the transactions. The two
"once" rules hold under concurrency too: ``(run_id, hash)`` is unique, and a verdict is
written by an UPDATE that only matches a still-pending row.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any, cast

from sqlalchemy import ColumnElement, CursorResult, func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from evaluator.types import EvalResult
from kernels.candidate import Candidate
from store import fronts
from store.errors import CandidateNotFound, ResultAlreadyRecorded, RunNotFound
from store.models import CandidateRow, RunRow, utcnow
from store.records import CandidateRecord, candidate_record, evaluation_row, verdict_values
from store.runs import require_run


def _id_for_hash(session: Session, run_id: int, hash_: str) -> int | None:
    return session.scalar(
        select(CandidateRow.id).where(CandidateRow.run_id == run_id, CandidateRow.hash == hash_)
    )


def insert_candidate(
    session: Session,
    run_id: int,
    candidate: Candidate,
    parent_id: int | None,
    descriptor: Mapping[str, str] | None = None,
) -> int:
    """Insert a pending candidate, or return the id of the one with the same hash in this run.

    Without ``parent_id``, a ``parent_hash`` that names a candidate of this run links to it.
    """
    require_run(session, run_id)
    hash_ = candidate.hash
    existing = _id_for_hash(session, run_id, hash_)
    if existing is not None:
        return existing
    if parent_id is not None:
        if session.get(CandidateRow, parent_id) is None:
            raise CandidateNotFound(parent_id)
    elif candidate.parent_hash is not None:
        parent_id = _id_for_hash(session, run_id, candidate.parent_hash)
    row = CandidateRow(
        run_id=run_id,
        hash=hash_,
        family=candidate.family,
        origin=candidate.origin.value,
        language=candidate.language.value,
        parent_id=parent_id,
        parent_hash=candidate.parent_hash,
        source=candidate.source,
        config=candidate.config.as_dict(),
        descriptor=dict(descriptor) if descriptor is not None else None,
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        # Another writer added the same hash between our check and our insert.
        existing = _id_for_hash(session, run_id, hash_)
        if existing is None:
            raise
        return existing
    _count(session, run_id, RunRow.candidate_count)
    return row.id


def _count(session: Session, run_id: int, column: Any) -> None:
    """One more in a run's counter; on PostgreSQL this also takes the run's row lock."""
    session.execute(
        update(RunRow)
        .where(RunRow.id == run_id)
        .values({column: column + 1})
        .execution_options(synchronize_session=False)
    )


def write_result(session: Session, candidate_id: int, result: EvalResult) -> None:
    """Write the verdict and its per-shape rows; refuse a candidate that already has one."""
    repeated = [name for name, n in Counter(s.shape for s in result.shapes).items() if n > 1]
    if repeated:
        raise ValueError(f"result for candidate {candidate_id} repeats shapes {repeated}")
    values: dict[str, Any] = verdict_values(result) | {"evaluated_at": utcnow()}
    claimed = cast(
        "CursorResult[Any]",
        session.execute(
            update(CandidateRow)
            .where(CandidateRow.id == candidate_id, CandidateRow.status.is_(None))
            .values(**values)
            .execution_options(synchronize_session=False)
        ),
    )
    if claimed.rowcount != 1:
        current = session.execute(select(CandidateRow.status).where(CandidateRow.id == candidate_id)).first()
        if current is None:
            raise CandidateNotFound(candidate_id)
        raise ResultAlreadyRecorded(candidate_id, str(current[0]))
    session.add_all(evaluation_row(candidate_id, i, m) for i, m in enumerate(result.shapes))
    run_id = session.scalar(select(CandidateRow.run_id).where(CandidateRow.id == candidate_id))
    assert run_id is not None  # the UPDATE above matched the row
    _count(session, run_id, RunRow.verdict_count)  # first: it serializes this run's front updates
    fronts.admit(session, run_id, candidate_id, result)
    session.flush()


def select_candidates(
    session: Session,
    *criteria: ColumnElement[bool],
    order_by: tuple[Any, ...] = (CandidateRow.id,),
    limit: int | None = None,
    offset: int = 0,
) -> list[CandidateRecord]:
    """Candidates matching ``criteria``, with their evaluation rows loaded in one extra query."""
    stmt = (
        select(CandidateRow)
        .where(*criteria)
        .order_by(*order_by)
        .options(selectinload(CandidateRow.evaluations))
    )
    if limit is not None:
        stmt = stmt.limit(limit)
    if offset:
        stmt = stmt.offset(offset)
    return [candidate_record(row) for row in session.scalars(stmt)]


def run_candidates(session: Session, run_id: int, *criteria: ColumnElement[bool]) -> list[CandidateRecord]:
    require_run(session, run_id)
    return select_candidates(session, CandidateRow.run_id == run_id, *criteria)


def read_candidate(session: Session, candidate_id: int) -> CandidateRecord:
    found = select_candidates(session, CandidateRow.id == candidate_id)
    if not found:
        raise CandidateNotFound(candidate_id)
    return found[0]


def lookup_candidate(session: Session, run_id: int, hash_: str) -> CandidateRecord | None:
    found = run_candidates(session, run_id, CandidateRow.hash == hash_)
    return found[0] if found else None


def hashes_evaluated(session: Session, run_id: int) -> set[str]:
    require_run(session, run_id)
    stmt = select(CandidateRow.hash).where(CandidateRow.run_id == run_id, CandidateRow.status.is_not(None))
    return set(session.scalars(stmt))


def evaluated_count(session: Session, run_id: int) -> int:
    """The run's count of verdicts, kept on its row by ``write_result``."""
    count = session.scalar(select(RunRow.verdict_count).where(RunRow.id == run_id))
    if count is None:
        raise RunNotFound(run_id)
    return int(count)


def candidates_page(
    session: Session, run_id: int, limit: int, offset: int
) -> tuple[list[CandidateRecord], int]:
    """One page of the run's candidates, oldest first, and how many it has in all.

    The page's ids come from the (run_id, id) index alone, so a deep page skips ids, not rows."""
    total = session.scalar(select(RunRow.candidate_count).where(RunRow.id == run_id))
    if total is None:
        raise RunNotFound(run_id)
    ids = list(
        session.scalars(
            select(CandidateRow.id)
            .where(CandidateRow.run_id == run_id)
            .order_by(CandidateRow.id)
            .limit(limit)
            .offset(offset)
        )
    )
    return (select_candidates(session, CandidateRow.id.in_(ids)) if ids else []), int(total)


def llm_ok_count(session: Session, run_id: int) -> int:
    """How many LLM-written candidates of the run passed."""
    stmt = select(func.count()).where(
        CandidateRow.run_id == run_id, CandidateRow.status == "ok", CandidateRow.origin == "llm"
    )
    return int(session.scalar(stmt) or 0)
