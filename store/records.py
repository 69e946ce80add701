"""Frozen records the store hands out, and their conversion from rows.

Callers never see ORM objects: these records are plain values, safe to keep after the session
that read them is closed, to pass between threads, or to serialize.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from pathlib import Path
from typing import Any

from evaluator.types import DeviceInfo, EvalResult, Profile, ShapeMetrics, Stage, Status
from kernels.candidate import Candidate, Language, Origin
from kernels.config import Config
from store.models import CandidateRow, EvaluationRow, ProblemRow, RunRow
from store.status import RunStatus


@dataclass(frozen=True)
class RunRecord:
    """A run with its problem, as needed to show it or to resume it."""

    id: int
    problem_name: str
    problem_path: Path
    problem_source: str
    overrides: dict[str, int]
    device: str
    proposer: str
    budget: int
    seed: int
    status: RunStatus
    options: dict[str, Any]
    error: str | None
    created_at: datetime
    updated_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    problem_sha256: str = ""
    claimed_by: str | None = None
    lease_expires_at: datetime | None = None
    heartbeat_at: datetime | None = None
    # The evaluator limits it was started with; None for runs stored before they were kept.
    limits: dict[str, Any] | None = None
    claims: int = 0  # how many times a worker took it
    failure_streak: int = 0  # claims in a row that ended in the same failure
    cancel_requested: bool = False
    candidate_count: int = 0  # candidates stored, judged or not
    verdict_count: int = 0  # candidates with a verdict


@dataclass(frozen=True)
class RunSummary:
    """One line of ``crucible runs``: a run and how far it got."""

    id: int
    problem_name: str
    status: RunStatus
    device: str
    proposer: str
    budget: int
    evaluated: int
    ok: int
    best_speedup: float | None
    created_at: datetime


@dataclass(frozen=True)
class CandidateRecord:
    """A stored candidate; ``result`` is None while it waits to be evaluated."""

    id: int
    run_id: int
    hash: str
    family: str
    origin: Origin
    language: Language
    parent_id: int | None
    source: str
    config: Config
    created_at: datetime
    result: EvalResult | None
    parent_hash: str | None = None
    evaluated_at: datetime | None = None

    @property
    def pending(self) -> bool:
        return self.result is None

    @property
    def candidate(self) -> Candidate:
        """The domain candidate again, e.g. to re-propose from it or to export it."""
        return Candidate(
            source=self.source,
            config=self.config,
            family=self.family,
            origin=self.origin,
            parent_hash=self.parent_hash,
        )


def run_record(run: RunRow, problem: ProblemRow) -> RunRecord:
    return RunRecord(
        id=run.id,
        problem_name=problem.name,
        problem_path=Path(problem.path),
        problem_source=problem.source,
        overrides=dict(problem.overrides),
        device=run.device,
        proposer=run.proposer,
        budget=run.budget,
        seed=run.seed,
        status=RunStatus(run.status),
        options=dict(run.options),
        error=run.error,
        created_at=run.created_at,
        updated_at=run.updated_at,
        started_at=run.started_at,
        finished_at=run.finished_at,
        problem_sha256=problem.source_sha256,
        claimed_by=run.claimed_by,
        lease_expires_at=run.lease_expires_at,
        heartbeat_at=run.heartbeat_at,
        limits=dict(run.limits) if run.limits is not None else None,
        claims=run.claims,
        failure_streak=run.failure_streak,
        cancel_requested=run.cancel_requested,
        candidate_count=run.candidate_count,
        verdict_count=run.verdict_count,
    )


SHAPE_METRIC_FIELDS = tuple(f.name for f in fields(ShapeMetrics))  # one column per field, same name


def shape_metrics(row: EvaluationRow) -> ShapeMetrics:
    return ShapeMetrics(**{name: getattr(row, name) for name in SHAPE_METRIC_FIELDS})


def evaluation_row(candidate_id: int, position: int, metrics: ShapeMetrics) -> EvaluationRow:
    values = {name: getattr(metrics, name) for name in SHAPE_METRIC_FIELDS}
    return EvaluationRow(candidate_id=candidate_id, position=position, **values)


def verdict_values(result: EvalResult) -> dict[str, Any]:
    """The candidate columns that hold a verdict, including the aggregates queries sort on."""
    return {
        "status": result.status.value,
        "stage": result.stage.value,
        "reason": result.reason,
        "speedup": result.speedup,
        "latency_us": result.latency_us,
        "max_abs_err": result.max_error,
        "peak_mem_bytes": result.peak_mem_bytes,
        "interpreted": result.interpreted,
        "scaled_down": result.scaled_down,
        "device_key": result.device.key if result.device else None,
        "device": result.device.to_dict() if result.device else None,
        "duration_s": result.duration_s,
        "suspect": result.suspect,
        "verification": result.verification or None,
        "profile": result.profile.to_dict() if result.profile else None,
        "phase_seconds": result.phase_seconds,
    }


def eval_result(row: CandidateRow) -> EvalResult | None:
    """Rebuild the verdict from the row and its (already loaded) evaluation rows."""
    if row.status is None:
        return None
    return EvalResult(
        status=Status(row.status),
        stage=Stage(row.stage),
        reason=row.reason or "",
        shapes=tuple(shape_metrics(e) for e in row.evaluations),
        device=DeviceInfo(**row.device) if row.device else None,
        interpreted=bool(row.interpreted),
        scaled_down=bool(row.scaled_down),
        duration_s=row.duration_s or 0.0,
        suspect=bool(row.suspect),
        verification=row.verification or "",
        profile=Profile.from_dict(row.profile) if row.profile else None,
        phase_seconds=row.phase_seconds,
    )


def candidate_record(row: CandidateRow) -> CandidateRecord:
    return CandidateRecord(
        id=row.id,
        run_id=row.run_id,
        hash=row.hash,
        family=row.family,
        origin=Origin(row.origin),
        language=Language(row.language),
        parent_id=row.parent_id,
        source=row.source,
        config=Config.of(row.config),
        created_at=row.created_at,
        result=eval_result(row),
        parent_hash=row.parent_hash,
        evaluated_at=row.evaluated_at,
    )


@dataclass(frozen=True)
class RunProgress:
    """A run and how far it got, read in one transaction: what a run's detail page shows."""

    run: RunRecord
    evaluated: int  # candidates with a verdict
    llm_ok: int  # LLM-written candidates that passed
    best: CandidateRecord | None
    # (calls, failed calls, prompt tokens, completion tokens, cost in USD), as ``llm_call_counts``
    llm_calls: tuple[int, int, int, int, float]
