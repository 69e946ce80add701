"""Read-side queries over a run: leaderboard, best candidate, Pareto front, lineage.

Only ok, really-timed candidates compete on speed: an interpreted Triton run on CPU checks
correctness but its timings mean nothing, so it is kept out of every speed ranking.
"""

from __future__ import annotations

from sqlalchemy import ColumnElement, Integer, literal_column, select
from sqlalchemy.orm import Session, aliased

from evaluator.types import Status
from store.candidates import select_candidates
from store.errors import CandidateNotFound
from store.fronts import objectives
from store.models import CandidateRow
from store.records import CandidateRecord
from store.runs import require_run

# A parent is always inserted before its child, so chains are finite; this only guards bad data.
MAX_LINEAGE_DEPTH = 100_000


def _ok() -> ColumnElement[bool]:
    return CandidateRow.status == Status.OK.value


def _timed() -> ColumnElement[bool]:
    return _ok() & CandidateRow.interpreted.is_(False) & CandidateRow.suspect.isnot(True)


def leaderboard(session: Session, run_id: int, limit: int) -> list[CandidateRecord]:
    """Ok, really-timed candidates by speedup, best first; equal speedups by age."""
    require_run(session, run_id)
    return select_candidates(
        session,
        CandidateRow.run_id == run_id,
        _timed(),
        CandidateRow.speedup.is_not(None),
        order_by=(CandidateRow.speedup.desc(), CandidateRow.id),
        limit=limit,
    )


def best_candidate(session: Session, run_id: int) -> CandidateRecord | None:
    """The fastest timed candidate; with none timed, the most accurate ok one; else None.

    The fallback is what a CPU run of Triton candidates (interpreted only) can still offer.
    """
    top = leaderboard(session, run_id, 1)
    if top:
        return top[0]
    accurate = select_candidates(
        session,
        CandidateRow.run_id == run_id,
        _ok(),
        order_by=(CandidateRow.max_abs_err.is_(None), CandidateRow.max_abs_err, CandidateRow.id),
        limit=1,
    )
    return accurate[0] if accurate else None


def config_siblings(session: Session, candidate: CandidateRecord, limit: int) -> list[CandidateRecord]:
    """The run's timed candidates with the same source as ``candidate`` (itself included): the
    configurations the tuner measured for one structure, fastest first."""
    return select_candidates(
        session,
        CandidateRow.run_id == candidate.run_id,
        CandidateRow.source == candidate.source,
        _timed(),
        CandidateRow.latency_us.is_not(None),
        order_by=(CandidateRow.latency_us, CandidateRow.id),
        limit=limit,
    )


def pareto(session: Session, run_id: int) -> list[CandidateRecord]:
    """The run's front as ``store.fronts`` keeps it, fastest first (ties in latency by error)."""
    records = select_candidates(session, CandidateRow.run_id == run_id, CandidateRow.on_front.is_(True))
    return sorted(records, key=_front_order)


def _front_order(record: CandidateRecord) -> tuple[float, float, float]:
    r = record.result
    assert r is not None  # only judged candidates are on a front
    return objectives(r.latency_us, r.max_error, r.peak_mem_bytes)


def lineage(session: Session, candidate_id: int) -> list[CandidateRecord]:
    """The candidate's ancestors through ``parent_id``: the root first, the direct parent last."""
    found = session.execute(select(CandidateRow.parent_id).where(CandidateRow.id == candidate_id)).first()
    if found is None:
        raise CandidateNotFound(candidate_id)
    if found[0] is None:
        return []
    chain = (
        select(CandidateRow.id, CandidateRow.parent_id, literal_column("1", Integer).label("depth"))
        .where(CandidateRow.id == found[0])
        .cte("ancestors", recursive=True)
    )
    step = aliased(CandidateRow)
    chain = chain.union_all(
        select(step.id, step.parent_id, chain.c.depth + 1)
        .join(chain, step.id == chain.c.parent_id)
        .where(chain.c.depth < MAX_LINEAGE_DEPTH)
    )
    depth = {row.id: row.depth for row in session.execute(select(chain.c.id, chain.c.depth))}
    records = select_candidates(session, CandidateRow.id.in_(depth))
    return sorted(records, key=lambda record: -depth[record.id])
