"""Each run's Pareto front, kept as verdicts land, so reading it never scans the run.

A candidate is on the front over (latency_us, max_abs_err, peak_mem_bytes) when it is ok and
really timed (not interpreted, not suspect) and no other such candidate of its run is at least as
good everywhere. A verdict never changes, so the front only moves when a verdict lands: the new
point joins unless a front member is at least as good everywhere (so of equal points the first
judged stays), and the members it dominates leave. The caller holds the run's row lock (the
verdict count's UPDATE takes it), so two verdicts of one run never update its front at once.
"""

from __future__ import annotations

import math

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from evaluator.types import EvalResult, Status
from kernels.pareto import dominates
from store.models import CandidateRow

Objectives = tuple[float, float, float]


def _measured(value: float | None) -> float:
    # An unmeasured objective (e.g. no memory figure) cannot beat a measured one.
    return math.inf if value is None else float(value)


def objectives(latency_us: float | None, max_abs_err: float | None, peak_mem: float | None) -> Objectives:
    return (_measured(latency_us), _measured(max_abs_err), _measured(peak_mem))


def competes(result: EvalResult) -> bool:
    """Whether a verdict takes part in the front: ok, really timed, with a latency."""
    return (
        result.status is Status.OK
        and not result.interpreted
        and not result.suspect
        and result.latency_us is not None
    )


def timed() -> ColumnElement[bool]:
    """The same rule as ``competes``, over stored rows."""
    return (
        (CandidateRow.status == Status.OK.value)
        & CandidateRow.interpreted.is_(False)
        & CandidateRow.suspect.isnot(True)
        & CandidateRow.latency_us.is_not(None)
    )


def admit(session: Session, run_id: int, candidate_id: int, result: EvalResult) -> None:
    """Put a just-judged candidate on its run's front if it belongs there, and take off the
    members it dominates."""
    if not competes(result):
        return
    new = objectives(result.latency_us, result.max_error, result.peak_mem_bytes)
    members = session.execute(
        select(
            CandidateRow.id, CandidateRow.latency_us, CandidateRow.max_abs_err, CandidateRow.peak_mem_bytes
        ).where(CandidateRow.run_id == run_id, CandidateRow.on_front.is_(True))
    ).all()
    points = {row.id: objectives(row.latency_us, row.max_abs_err, row.peak_mem_bytes) for row in members}
    if any(all(a <= b for a, b in zip(kept, new, strict=True)) for kept in points.values()):
        return  # dominated by, or equal to, a member judged earlier
    beaten = [member for member, kept in points.items() if dominates(new, kept)]
    if beaten:
        session.execute(
            update(CandidateRow)
            .where(CandidateRow.id.in_(beaten))
            .values(on_front=False)
            .execution_options(synchronize_session=False)
        )
    session.execute(
        update(CandidateRow)
        .where(CandidateRow.id == candidate_id)
        .values(on_front=True)
        .execution_options(synchronize_session=False)
    )
