"""Runs and their candidates as documents: ``runs``, ``show``, ``export`` and ``optimize``."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import ConfigDict, Field, RootModel

from evaluator.types import Status
from kernels.candidate import Language, Origin
from service.schemas.base import Config, Document, IsoDatetime, Pending
from service.schemas.results import EvalResultOut
from store.status import RunStatus

if TYPE_CHECKING:
    from kernels.export import ExportedFiles
    from store.records import CandidateRecord, RunRecord, RunSummary


class CandidateOut(Document):
    """A stored candidate with its verdict, and the aggregates the leaderboard sorts on."""

    candidate_id: int = Field(description="the candidate's id in the store (cID on the command line)")
    run_id: int = Field(description="the run it belongs to")
    hash: str = Field(description="its identity: the normalized source plus config")
    family: str = Field(description="the variant family (or proposer lineage) it came from")
    origin: Origin = Field(description="who wrote it")
    language: Language = Field(description="triton or pytorch")
    parent_id: int | None = Field(description="the candidate it was derived from, if any")
    config: Config = Field(description="the CONFIG it ran under")
    status: Status | Pending = Field(description="its verdict's status, or pending before it has one")
    speedup: float | None = Field(description="geometric mean speedup over the reference, where ranked")
    latency_us: float | None = Field(description="geometric mean of the per-shape medians, microseconds")
    max_abs_err: float | None = Field(description="largest absolute error over all shapes")
    peak_mem_bytes: int | None = Field(description="largest peak memory over all shapes, bytes")
    result: EvalResultOut | None = Field(description="the full verdict, or null while pending")

    @classmethod
    def from_record(cls, record: CandidateRecord) -> CandidateOut:
        return cls(**_candidate_fields(record))


def _candidate_fields(record: CandidateRecord) -> dict[str, Any]:
    r = record.result
    return {
        "candidate_id": record.id,
        "run_id": record.run_id,
        "hash": record.hash,
        "family": record.family,
        "origin": record.origin,
        "language": record.language,
        "parent_id": record.parent_id,
        "config": record.config.as_dict(),
        "status": r.status if r else "pending",
        "speedup": r.speedup if r else None,
        "latency_us": r.latency_us if r else None,
        "max_abs_err": r.max_error if r else None,
        "peak_mem_bytes": r.peak_mem_bytes if r else None,
        "result": EvalResultOut.from_result(r) if r else None,
    }


class CandidateDetailOut(CandidateOut):
    """A candidate with its source code, for the API's candidate detail."""

    source: str = Field(description="the candidate's Python source")

    @classmethod
    def from_record(cls, record: CandidateRecord) -> CandidateDetailOut:
        return cls(**_candidate_fields(record), source=record.source)


class RunSummaryOut(Document):
    """One line of ``crucible runs``: a run and how far it got."""

    run_id: int = Field(description="the run's id in the store")
    problem: str = Field(description="the problem's name")
    status: RunStatus = Field(description="where the run is in its lifecycle")
    device: str = Field(description="the device it runs on: cpu, cuda:N or cuda:all")
    proposer: str = Field(description="offline or llm")
    budget: int = Field(description="how many candidates it may evaluate in total")
    evaluated: int = Field(description="how many candidates have a verdict")
    ok: int = Field(description="how many of those passed")
    best_speedup: float | None = Field(description="the best ranked speedup so far")
    created_at: IsoDatetime = Field(description="when the run was created")

    @classmethod
    def from_record(cls, summary: RunSummary) -> RunSummaryOut:
        return cls(
            run_id=summary.id,
            problem=summary.problem_name,
            status=summary.status,
            device=summary.device,
            proposer=summary.proposer,
            budget=summary.budget,
            evaluated=summary.evaluated,
            ok=summary.ok,
            best_speedup=summary.best_speedup,
            created_at=summary.created_at,
        )


class RunListOut(RootModel[tuple[RunSummaryOut, ...]]):
    """``crucible runs --json``: the newest runs first."""

    model_config = ConfigDict(frozen=True)

    @classmethod
    def from_records(cls, summaries: Sequence[RunSummary]) -> RunListOut:
        return cls(tuple(RunSummaryOut.from_record(s) for s in summaries))


class RunOut(Document):
    """A run as stored: what it optimizes, where, and the limits its candidates are judged by."""

    run_id: int = Field(description="the run's id in the store")
    problem: str = Field(description="the problem's name")
    status: RunStatus = Field(description="where the run is in its lifecycle")
    device: str = Field(description="the device it runs on: cpu, cuda:N or cuda:all")
    proposer: str = Field(description="offline or llm")
    budget: int = Field(description="how many candidates it may evaluate in total")
    error: str | None = Field(description="why the run failed, if it did")
    overrides: dict[str, int] = Field(description="the problem's module-level sizes overridden for this run")
    created_at: IsoDatetime = Field(description="when the run was created")
    finished_at: IsoDatetime | None = Field(description="when it reached a terminal status")
    limits: dict[str, Any] | None = Field(
        description="the evaluator limits it was started with (EvalLimits); null for runs stored before"
    )

    @classmethod
    def from_record(cls, run: RunRecord) -> RunOut:
        return cls(**_run_fields(run))


def _run_fields(run: RunRecord) -> dict[str, Any]:
    return {
        "run_id": run.id,
        "problem": run.problem_name,
        "status": run.status,
        "device": run.device,
        "proposer": run.proposer,
        "budget": run.budget,
        "error": run.error,
        "overrides": run.overrides,
        "created_at": run.created_at,
        "finished_at": run.finished_at,
        "limits": run.limits,
    }


class RunDetailOut(RunOut):
    """``crucible show --json``: a run with its best candidate, its Pareto front and every candidate."""

    best: CandidateOut | None = Field(description="the best ranked candidate, if one passed")
    pareto: tuple[CandidateOut, ...] = Field(description="the Pareto front over latency, error and memory")
    candidates: tuple[CandidateOut, ...] = Field(description="every candidate of the run, in order")

    @classmethod
    def from_records(
        cls,
        run: RunRecord,
        candidates: Sequence[CandidateRecord],
        pareto: Sequence[CandidateRecord],
        best: CandidateRecord | None,
    ) -> RunDetailOut:
        return cls(
            **_run_fields(run),
            best=CandidateOut.from_record(best) if best else None,
            pareto=tuple(CandidateOut.from_record(c) for c in pareto),
            candidates=tuple(CandidateOut.from_record(c) for c in candidates),
        )


class ExportedPathsOut(Document):
    """Where an export wrote the kernel and its test."""

    module: Path = Field(description="the standalone kernel module")
    test: Path = Field(description="its pytest file")

    @classmethod
    def from_files(cls, files: ExportedFiles) -> ExportedPathsOut:
        return cls(module=files.module, test=files.test)


class ExportOut(Document):
    """``crucible export --json``: which candidate was exported and the files it became."""

    candidate_id: int = Field(description="the exported candidate")
    module: Path = Field(description="the standalone kernel module")
    test: Path = Field(description="its pytest file")
    reference: Path = Field(description="the problem's reference, copied beside them for the test")

    @classmethod
    def from_files(cls, record: CandidateRecord, files: ExportedFiles) -> ExportOut:
        return cls(candidate_id=record.id, module=files.module, test=files.test, reference=files.reference)


class LLMUsageOut(Document):
    """What a run's LLM calls came to, from the store's account of them."""

    calls: int = Field(description="calls made, cache hits and failures included")
    failed_calls: int = Field(
        description="calls that gave no candidate (endpoint failures, no code, duplicates)"
    )
    prompt_tokens: int = Field(description="prompt tokens over all calls")
    completion_tokens: int = Field(description="completion tokens over all calls")
    cost_usd: float = Field(description="cost of all calls by the configured price table, in USD")
    candidates_ok: int = Field(description="LLM-written candidates that passed")

    @classmethod
    def from_counts(cls, counts: tuple[int, int, int, int, float], candidates_ok: int) -> LLMUsageOut:
        calls, failed, prompt, completion, cost = counts
        return cls(
            calls=calls,
            failed_calls=failed,
            prompt_tokens=prompt,
            completion_tokens=completion,
            cost_usd=round(cost, 6),
            candidates_ok=candidates_ok,
        )


class OptimizeReportOut(Document):
    """``crucible optimize --json``: how the run ended, its best candidate, its front and any export."""

    run_id: int = Field(description="the run's id in the store")
    status: RunStatus = Field(description="the run's status when the command ended")
    evaluated: int = Field(description="how many candidates have a verdict")
    stopped: str = Field(
        description=(
            "why the search ended: budget (reached), exhausted (nothing new to propose), cap (an LLM"
            " cap, see stop_detail) or stopped"
        )
    )
    best: CandidateOut | None = Field(description="the best ranked candidate, if one passed")
    pareto: tuple[CandidateOut, ...] = Field(description="the Pareto front over latency, error and memory")
    export: ExportedPathsOut | None = Field(description="where the best candidate was exported, if asked")
    proposer: str = Field(default="offline", description="who wrote the candidates: offline or llm")
    stop_detail: str | None = Field(default=None, description="for a cap: which one, with the figures")
    llm: LLMUsageOut | None = Field(default=None, description="the LLM calls, for an llm run")

    @classmethod
    def from_run(
        cls,
        run: RunRecord,
        *,
        evaluated: int,
        stopped: str,
        best: CandidateRecord | None,
        pareto: Sequence[CandidateRecord],
        exported: ExportedFiles | None,
        llm: LLMUsageOut | None = None,
    ) -> OptimizeReportOut:
        return cls(
            proposer=run.proposer,
            stop_detail=run.error if stopped == "cap" else None,
            llm=llm,
            run_id=run.id,
            status=run.status,
            evaluated=evaluated,
            stopped=stopped,
            best=CandidateOut.from_record(best) if best else None,
            pareto=tuple(CandidateOut.from_record(c) for c in pareto),
            export=ExportedPathsOut.from_files(exported) if exported else None,
        )
