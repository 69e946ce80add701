"""What the dashboard draws, aggregated in SQL: a run's chart points, status tallies, commonest
failures and best-so-far curve, each a bounded number of small rows however large the run.

Chart points are the front plus an even sample of the rest (every k-th judged candidate by id),
so a run of 100k evaluations draws about ``CHART_SAMPLE`` points, its whole front among them: a
browser draws that many in an SVG scatter without stalling. The staircase and the timeline are
window functions and ``GROUP BY``s: only their steps and buckets leave the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Float, Integer, case, cast, func, select
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import FunctionElement

from store.fronts import timed
from store.models import CandidateRow, EvaluationRow, LLMCallRow, RunRow

CHART_SAMPLE = 1500


class epoch_s(FunctionElement[float]):
    """A timestamp as seconds since the epoch, in each backend's own SQL."""

    type = Float()
    inherit_cache = True


@compiles(epoch_s, "sqlite")
def _epoch_sqlite(element: epoch_s, compiler: Any, **kw: Any) -> str:
    return f"((julianday({compiler.process(element.clauses, **kw)}) - 2440587.5) * 86400.0)"


@compiles(epoch_s, "postgresql")
def _epoch_postgresql(element: epoch_s, compiler: Any, **kw: Any) -> str:
    return f"EXTRACT(EPOCH FROM {compiler.process(element.clauses, **kw)})"


@dataclass(frozen=True)
class ChartPoint:
    """One judged candidate as a chart draws it."""

    candidate_id: int
    family: str
    origin: str
    status: str
    latency_us: float | None
    max_abs_err: float | None
    peak_mem_bytes: int | None
    speedup: float | None
    on_front: bool
    timed: bool  # ok and really timed: the only points a speed chart may place


@dataclass(frozen=True)
class ShapePoint:
    """One timed candidate on one shape."""

    candidate_id: int
    shape: str
    median_us: float
    speedup: float | None
    max_abs_err: float | None


@dataclass(frozen=True)
class StatusCount:
    status: str
    count: int


@dataclass(frozen=True)
class FailureReason:
    status: str
    reason: str
    count: int


@dataclass(frozen=True)
class ProgressPoint:
    """The n-th verdict that raised the run's best speedup."""

    evaluated: int
    seconds: float  # since the run's first verdict
    best_speedup: float
    cost_usd: float = 0.0  # the run's LLM spend when it landed


@dataclass(frozen=True)
class ModelUsage:
    model: str
    calls: int
    prompt_tokens: int
    completion_tokens: int
    cost_usd: float


@dataclass(frozen=True)
class StatusBucket:
    """Verdicts of one status within one slice of the run's wall time."""

    bucket_start_s: float
    status: str
    count: int


def chart_points(session: Session, run_id: int, limit: int = CHART_SAMPLE) -> list[ChartPoint]:
    """The front, and about ``limit`` other judged candidates spread evenly over the run."""
    judged = CandidateRow.run_id == run_id, CandidateRow.status.is_not(None)
    total = session.scalar(select(RunRow.verdict_count).where(RunRow.id == run_id)) or 0
    step = max(1, -(-int(total) // limit))
    sampled = CandidateRow.on_front.is_(True) | (CandidateRow.id % step == 0)
    rows = session.execute(
        select(
            CandidateRow.id,
            CandidateRow.family,
            CandidateRow.origin,
            CandidateRow.status,
            CandidateRow.latency_us,
            CandidateRow.max_abs_err,
            CandidateRow.peak_mem_bytes,
            CandidateRow.speedup,
            CandidateRow.on_front,
            timed().label("timed"),
        )
        .where(*judged, sampled)
        .order_by(CandidateRow.id)
    )
    return [
        ChartPoint(r.id, r.family, r.origin, r.status, r.latency_us, r.max_abs_err, r.peak_mem_bytes,
                   r.speedup, bool(r.on_front), bool(r.timed))
        for r in rows
    ]  # fmt: skip


def shape_points(session: Session, run_id: int, limit: int = CHART_SAMPLE) -> list[ShapePoint]:
    """Per-shape medians of the run's timed candidates: the front's and a sample of the rest."""
    total = session.scalar(select(RunRow.verdict_count).where(RunRow.id == run_id)) or 0
    step = max(1, -(-int(total) // limit))
    rows = session.execute(
        select(
            EvaluationRow.candidate_id,
            EvaluationRow.shape,
            EvaluationRow.median_us,
            EvaluationRow.speedup,
            EvaluationRow.max_abs_err,
        )
        .join(CandidateRow, CandidateRow.id == EvaluationRow.candidate_id)
        .where(
            CandidateRow.run_id == run_id,
            timed(),
            EvaluationRow.median_us.is_not(None),
            CandidateRow.on_front.is_(True) | (CandidateRow.id % step == 0),
        )
        .order_by(EvaluationRow.candidate_id, EvaluationRow.position)
    )
    return [ShapePoint(r.candidate_id, r.shape, r.median_us, r.speedup, r.max_abs_err) for r in rows]


def status_counts(session: Session, run_id: int) -> list[StatusCount]:
    """Candidates per verdict status (``pending`` for those not judged yet), commonest first."""
    status = func.coalesce(CandidateRow.status, "pending")
    rows = session.execute(
        select(status, func.count())
        .where(CandidateRow.run_id == run_id)
        .group_by(status)
        .order_by(func.count().desc(), status)
    )
    return [StatusCount(str(s), int(n)) for s, n in rows]


def failure_reasons(session: Session, run_id: int, limit: int = 8) -> list[FailureReason]:
    """The commonest reasons candidates failed, with their status."""
    reason = func.coalesce(CandidateRow.reason, "")
    rows = session.execute(
        select(CandidateRow.status, reason, func.count())
        .where(CandidateRow.run_id == run_id, CandidateRow.status.is_not(None), CandidateRow.status != "ok")
        .group_by(CandidateRow.status, reason)
        .order_by(func.count().desc(), CandidateRow.status, reason)
        .limit(limit)
    )
    return [FailureReason(str(s), str(r), int(n)) for s, r, n in rows]


def progress_curve(session: Session, run_id: int) -> list[ProgressPoint]:
    """The verdicts that raised the best speedup, in the order they landed: a staircase."""
    order = (CandidateRow.evaluated_at, CandidateRow.id)
    speed = case((timed(), CandidateRow.speedup))
    ranked = (
        select(
            func.row_number().over(order_by=order).label("n"),
            CandidateRow.evaluated_at.label("at"),
            speed.label("speedup"),
            func.max(speed).over(order_by=order, rows=(None, -1)).label("before"),
            func.min(CandidateRow.evaluated_at).over().label("first"),
        )
        .where(CandidateRow.run_id == run_id, CandidateRow.status.is_not(None))
        .subquery()
    )
    rows = session.execute(
        select(ranked.c.n, ranked.c.at, ranked.c.first, ranked.c.speedup)
        .where(
            ranked.c.speedup.is_not(None), ranked.c.before.is_(None) | (ranked.c.speedup > ranked.c.before)
        )
        .order_by(ranked.c.n)
    )
    return [ProgressPoint(int(n), _seconds(first, at), float(speedup)) for n, at, first, speedup in rows]


def status_timeline(session: Session, run_id: int, buckets: int = 30) -> list[StatusBucket]:
    """Verdicts per status in ``buckets`` equal slices of the run's wall time, counted in SQL."""
    judged = (CandidateRow.run_id == run_id, CandidateRow.status.is_not(None))
    start, end = session.execute(
        select(
            func.min(epoch_s(CandidateRow.evaluated_at)), func.max(epoch_s(CandidateRow.evaluated_at))
        ).where(*judged)
    ).one()
    if start is None:
        return []
    width = max((float(end) - float(start)) / buckets, 1e-3)
    raw = cast((epoch_s(CandidateRow.evaluated_at) - float(start)) / width, Integer)
    bucket = case((raw >= buckets, buckets - 1), else_=raw)
    rows = session.execute(
        select(bucket, CandidateRow.status, func.count()).where(*judged).group_by(bucket, CandidateRow.status)
    )
    return [
        StatusBucket(int(i) * width, str(status), int(n))
        for i, status, n in sorted(rows, key=lambda r: (r[0], r[1]))
    ]


def llm_usage_by_model(session: Session, run_id: int) -> list[ModelUsage]:
    """Calls, tokens and cost per model of the run."""
    rows = session.execute(
        select(
            LLMCallRow.model,
            func.count(),
            func.coalesce(func.sum(LLMCallRow.prompt_tokens), 0),
            func.coalesce(func.sum(LLMCallRow.completion_tokens), 0),
            func.coalesce(func.sum(LLMCallRow.cost_usd), 0.0),
        )
        .where(LLMCallRow.run_id == run_id)
        .group_by(LLMCallRow.model)
        .order_by(LLMCallRow.model)
    )
    return [ModelUsage(str(m), int(c), int(p), int(t), float(u)) for m, c, p, t, u in rows]


@dataclass(frozen=True)
class RunCharts:
    """Everything a run's page draws, read in one snapshot."""

    points: tuple[ChartPoint, ...]
    shapes: tuple[ShapePoint, ...]
    statuses: tuple[StatusCount, ...]
    failures: tuple[FailureReason, ...]
    progress: tuple[ProgressPoint, ...]
    timeline: tuple[StatusBucket, ...]
    models: tuple[ModelUsage, ...]


def run_charts(session: Session, run_id: int) -> RunCharts:
    return RunCharts(
        points=tuple(chart_points(session, run_id)),
        shapes=tuple(shape_points(session, run_id)),
        statuses=tuple(status_counts(session, run_id)),
        failures=tuple(failure_reasons(session, run_id)),
        progress=tuple(progress_curve(session, run_id)),
        timeline=tuple(status_timeline(session, run_id)),
        models=tuple(llm_usage_by_model(session, run_id)),
    )


@dataclass(frozen=True)
class RunTally:
    """A run's verdicts by status and its LLM account: one line of the runs overview."""

    run_id: int
    statuses: tuple[StatusCount, ...]
    llm_calls: int
    llm_cost_usd: float


def run_tallies(session: Session, run_ids: Sequence[int]) -> dict[int, RunTally]:
    """Verdicts by status and LLM cost for these runs, in two grouped queries."""
    if not run_ids:
        return {}
    by_status: dict[int, list[StatusCount]] = {i: [] for i in run_ids}
    for run_id, status, count in session.execute(
        select(CandidateRow.run_id, CandidateRow.status, func.count())
        .where(CandidateRow.run_id.in_(run_ids), CandidateRow.status.is_not(None))
        .group_by(CandidateRow.run_id, CandidateRow.status)
        .order_by(CandidateRow.run_id, func.count().desc())
    ):
        by_status[run_id].append(StatusCount(str(status), int(count)))
    calls = {
        run_id: (int(n), float(cost))
        for run_id, n, cost in session.execute(
            select(LLMCallRow.run_id, func.count(), func.coalesce(func.sum(LLMCallRow.cost_usd), 0.0))
            .where(LLMCallRow.run_id.in_(run_ids))
            .group_by(LLMCallRow.run_id)
        )
    }
    return {i: RunTally(i, tuple(by_status[i]), *calls.get(i, (0, 0.0))) for i in run_ids}


def devices(session: Session) -> list[str]:
    """Every device some run was made for, sorted: the dashboard's device filter."""
    return [str(d) for d in session.scalars(select(RunRow.device).distinct().order_by(RunRow.device))]


def _seconds(start: datetime | None, end: datetime | None) -> float:
    if start is None or end is None:  # a verdict always has its time; rows written by hand may not
        return 0.0
    return max((end - start).total_seconds(), 0.0)
