"""The JSON documents Crucible hands out: ``--json``, the HTTP API and the dashboard share these models.

Each model is frozen and forbids keys it does not declare, so a document either means what its
schema says or fails to validate. Units are in the field names, as the store has them (``_us``,
``_bytes``, ``_gbps``, ``_s``). The ``from_*`` constructors build a document from the domain
values (evaluator results, store records, loaded problems); ``JSON_DOCUMENTS`` names the
top-level ones and ``json_schemas`` gives every model's JSON schema, for the API to serve.

Torch-free and light: the runtime imports are the evaluator's shared value types, the store's
status enum and the kernels' candidate and problem types; everything else is for type checking.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeAlias

from pydantic import BaseModel, ConfigDict, Field, PlainSerializer, RootModel, WithJsonSchema

from evaluator.types import Stage, Status
from kernels.candidate import Language, Origin
from kernels.config import ConfigValue
from kernels.problem import SizeValue
from store.status import RunStatus

if TYPE_CHECKING:
    from evaluator.hardware.devices import DeviceSpec
    from evaluator.sandbox.isolation import Isolation
    from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics
    from kernels.candidate import Candidate
    from kernels.export import ExportedFiles
    from kernels.problem import Problem
    from store.records import CandidateRecord, RunRecord, RunSummary

# Times as ``datetime.isoformat`` writes them (``+00:00``, not pydantic's ``Z``), as the CLI always has.
IsoDatetime = Annotated[
    datetime,
    PlainSerializer(lambda t: t.isoformat(), return_type=str, when_used="json"),
    WithJsonSchema({"type": "string", "format": "date-time"}),
]

# The profiler's report for a result (``evaluator.types.Profile``), as an open mapping for now; a
# typed model of it replaces this alias and ``_profile`` below, and nothing else.
ProfileOut: TypeAlias = dict[str, Any]

# What a candidate shows before it has a verdict.
Pending: TypeAlias = Literal["pending"]

Config: TypeAlias = dict[str, ConfigValue]


class Document(BaseModel):
    """The base of every document: immutable, and strict about the keys it carries."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class DeviceInfoOut(Document):
    """What a result was measured on; results are always keyed by ``key``."""

    key: str = Field(description="the device a result is keyed by: cpu or cuda:N")
    kind: str = Field(description="cpu or cuda")
    name: str = Field(description="the device's marketing name")
    driver: str | None = Field(description="the driver version, where there is one")
    torch_version: str = Field(description="the torch version the result was measured with")
    triton_version: str | None = Field(description="the triton version, where triton is installed")
    extra: dict[str, Any] = Field(description="further facts about the device (clocks, capability)")

    @classmethod
    def from_info(cls, info: DeviceInfo) -> DeviceInfoOut:
        return cls.model_validate(info.to_dict())


class ShapeMetricsOut(Document):
    """Measurements for one shape; the same fields, in the same order, as ``ShapeMetrics``."""

    shape: str = Field(description="the shape's name, from the problem's SHAPES")
    median_us: float | None = Field(description="median latency of the candidate, microseconds")
    iqr_us: float | None = Field(description="interquartile range of the candidate's latency, microseconds")
    samples: int = Field(description="timed calls behind median_us")
    max_abs_err: float | None = Field(description="largest absolute difference from the reference output")
    max_rel_err: float | None = Field(description="largest relative difference from the reference output")
    peak_mem_bytes: int | None = Field(description="peak memory the candidate allocated, bytes")
    ref_median_us: float | None = Field(description="median latency of the reference, microseconds")
    ref_iqr_us: float | None = Field(
        description="interquartile range of the reference's latency, microseconds"
    )
    speedup: float | None = Field(description="ref_median_us / median_us")
    achieved_gbps: float | None = Field(description="bytes moved per second, GB/s, where the problem says")
    achieved_tflops: float | None = Field(description="floating-point work per second, TFLOP/s")
    peak_fraction: float | None = Field(description="share of the device's datasheet peak reached")
    interpreted: bool = Field(description="run by the Triton interpreter: correct, but never ranked")
    timing_method: str | None = Field(
        description="how median_us was taken (events, graph replays, CPU clock)"
    )
    cpu_cores: float | None = Field(description="on the CPU: the cores the timed calls kept busy on average")

    @classmethod
    def from_metrics(cls, metrics: ShapeMetrics) -> ShapeMetricsOut:
        return cls.model_validate(metrics.to_dict())


class EvalResultOut(Document):
    """One evaluation of one candidate on one device: its verdict and per-shape metrics."""

    status: Status = Field(description="the one status the evaluation ended in")
    stage: Stage = Field(description="how far the evaluation got")
    reason: str = Field(description="a short, readable reason for the status")
    speedup: float | None = Field(
        description="geometric mean of the per-shape speedups; null unless ok, really timed and not suspect"
    )
    interpreted: bool = Field(description="run by the Triton interpreter: correct, but never ranked")
    scaled_down: bool = Field(description="the problem ran with overridden (smaller) sizes")
    suspect: bool = Field(description="flagged as implausible and not confirmed: never ranked")
    verification: str = Field(description="what re-verification found, when the result was flagged")
    profile: ProfileOut | None = Field(description="profiler feedback, where a profile was taken")
    duration_s: float = Field(description="wall-clock time of the whole evaluation, seconds")
    phase_seconds: dict[str, float] | None = Field(description="where the time went, seconds per phase")
    device: DeviceInfoOut | None = Field(description="what the result was measured on")
    shapes: tuple[ShapeMetricsOut, ...] = Field(description="the measurements, one per shape")

    @classmethod
    def from_result(cls, result: EvalResult) -> EvalResultOut:
        return cls(**_result_fields(result))


def _profile(result: EvalResult) -> ProfileOut | None:
    return result.profile.to_dict() if result.profile else None


def _result_fields(result: EvalResult) -> dict[str, Any]:
    return {
        "status": result.status,
        "stage": result.stage,
        "reason": result.reason,
        "speedup": result.speedup,
        "interpreted": result.interpreted,
        "scaled_down": result.scaled_down,
        "suspect": result.suspect,
        "verification": result.verification,
        "profile": _profile(result),
        "duration_s": round(result.duration_s, 3),
        "phase_seconds": result.phase_seconds,
        "device": DeviceInfoOut.from_info(result.device) if result.device else None,
        "shapes": tuple(ShapeMetricsOut.from_metrics(s) for s in result.shapes),
    }


class EvaluateOut(EvalResultOut):
    """``crucible evaluate --json``: the verdict, and which candidate under which config it judged."""

    candidate_hash: str = Field(description="the candidate's identity: its normalized source plus config")
    config: Config = Field(description="the CONFIG the candidate ran under")

    @classmethod
    def from_evaluation(cls, result: EvalResult, candidate: Candidate) -> EvaluateOut:
        return cls(**_result_fields(result), candidate_hash=candidate.hash, config=candidate.config.as_dict())


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


class ProblemShapeOut(Document):
    """One named input size of a problem, with the work per call where the problem declares it."""

    name: str = Field(description="the shape's name")
    sizes: dict[str, SizeValue] = Field(description="the keyword arguments get_inputs receives")
    devices: tuple[str, ...] = Field(description="the device kinds it runs on: cpu, cuda or both")
    flops: float | None = Field(description="floating-point operations per call, for the roofline")
    bytes_moved: float | None = Field(description="bytes read and written per call, for the roofline")


class ProblemOut(Document):
    """A loaded, validated problem: its shapes and the variant families kept with it."""

    name: str = Field(description="the problem's name")
    path: Path = Field(description="its reference file")
    builtin: bool = Field(description="one of Crucible's built-in problems")
    scaled_down: bool = Field(description="loaded with overridden (smaller) sizes")
    overrides: dict[str, int] = Field(description="the module-level sizes overridden")
    families: tuple[str, ...] = Field(description="the hand-written variant families kept with it")
    shapes: tuple[ProblemShapeOut, ...] = Field(description="its named input sizes")

    @classmethod
    def from_problem(cls, problem: Problem, families: Sequence[str]) -> ProblemOut:
        return cls(
            name=problem.name,
            path=problem.path,
            builtin=problem.builtin,
            scaled_down=problem.scaled_down,
            overrides=dict(problem.overrides),
            families=tuple(families),
            shapes=tuple(
                ProblemShapeOut(
                    name=s.name,
                    sizes=dict(s.sizes),
                    devices=tuple(s.devices),
                    flops=s.flops,
                    bytes_moved=s.bytes_moved,
                )
                for s in problem.shapes
            ),
        )


class ProblemListOut(RootModel[tuple[ProblemOut, ...]]):
    """``crucible problems --json``: every built-in problem."""

    model_config = ConfigDict(frozen=True)


class DevicePeakOut(Document):
    """A device's datasheet peaks, where Crucible knows them."""

    memory_gbps: float = Field(description="memory bandwidth, GB/s")
    tflops_fp32: float = Field(description="fp32 throughput, TFLOP/s")
    tflops_fp16: float = Field(description="fp16 tensor throughput, TFLOP/s")


class DeviceOut(Document):
    """One device of this machine as discovered and measured."""

    key: str = Field(description="cpu or cuda:N")
    kind: str = Field(description="cpu or cuda")
    name: str = Field(description="the device's name")
    memory_bytes: int = Field(description="its memory, bytes")
    sm_count: int | None = Field(description="streaming multiprocessors, on a GPU")
    l2_bytes: int | None = Field(description="L2 cache size, bytes")
    copy_gbps: float | None = Field(description="measured copy bandwidth (read plus write), GB/s")
    peak: DevicePeakOut | None = Field(description="the datasheet peaks, where known")
    driver: str | None = Field(description="the driver version, on a GPU")
    clocks: dict[str, float | str] = Field(description="clocks and counts at discovery time")

    @classmethod
    def from_spec(cls, spec: DeviceSpec) -> DeviceOut:
        return cls.model_validate(spec.to_dict())


class SandboxOut(Document):
    """The walls a candidate process gets on this host."""

    enabled: bool = Field(description="the sandbox is on (CRUCIBLE_SANDBOX)")
    network_namespace: bool = Field(description="candidates get no network")
    pid_namespace: bool = Field(description="the kernel kills every leftover process")
    drop_capabilities: bool = Field(description="limits cannot be raised again")
    landlock_abi: int = Field(description="the Landlock ABI in force; 0 when there is none")
    cgroups: bool = Field(description="process count (and CPU memory) bounded by a cgroup")
    warnings: tuple[str, ...] = Field(description="what is missing, in words")

    @classmethod
    def from_isolation(cls, isolation: Isolation, enabled: bool) -> SandboxOut:
        return cls.model_validate({"enabled": enabled, **isolation.describe()})


class ProfilersOut(Document):
    """The profilers that give candidates feedback here."""

    torch_profiler: bool = Field(description="the torch profiler, always available")
    ncu: str | None = Field(description="where Nsight Compute is installed, if it is")
    ncu_enabled: bool = Field(description="ncu is installed and turned on (CRUCIBLE_NCU)")


class MachineOut(Document):
    """``crucible devices --json``: this machine's devices, its sandbox and its profilers."""

    devices: tuple[DeviceOut, ...] = Field(description="the CPU, then every visible CUDA device")
    sandbox: SandboxOut = Field(description="the walls candidates get on this host")
    profilers: ProfilersOut = Field(description="the profilers available")

    @classmethod
    def from_machine(
        cls,
        specs: Sequence[DeviceSpec],
        isolation: Isolation,
        *,
        sandbox_on: bool,
        ncu: str | None,
        ncu_on: bool,
    ) -> MachineOut:
        return cls(
            devices=tuple(DeviceOut.from_spec(s) for s in specs),
            sandbox=SandboxOut.from_isolation(isolation, sandbox_on),
            profilers=ProfilersOut(torch_profiler=True, ncu=ncu, ncu_enabled=ncu_on and ncu is not None),
        )


class ErrorOut(Document):
    """What ``--json`` prints instead when a command fails on bad input."""

    error: str = Field(description="one message that says what is wrong and what to do")


# The documents commands print, by command; every model in this module is reachable from one.
JSON_DOCUMENTS: dict[str, type[BaseModel]] = {
    "problems": ProblemListOut,
    "problems PATH": ProblemOut,
    "evaluate": EvaluateOut,
    "optimize": OptimizeReportOut,
    "devices": MachineOut,
    "runs": RunListOut,
    "show": RunDetailOut,
    "export": ExportOut,
    "error": ErrorOut,
}

MODELS: tuple[type[BaseModel], ...] = (
    DeviceInfoOut,
    ShapeMetricsOut,
    EvalResultOut,
    EvaluateOut,
    CandidateOut,
    CandidateDetailOut,
    RunSummaryOut,
    RunListOut,
    RunOut,
    RunDetailOut,
    ExportedPathsOut,
    ExportOut,
    LLMUsageOut,
    OptimizeReportOut,
    ProblemShapeOut,
    ProblemOut,
    ProblemListOut,
    DevicePeakOut,
    DeviceOut,
    SandboxOut,
    ProfilersOut,
    MachineOut,
    ErrorOut,
)


def json_schemas() -> dict[str, dict[str, Any]]:
    """Every model's JSON schema (serialization side: what a reader of the documents receives)."""
    return {model.__name__: model.model_json_schema(mode="serialization") for model in MODELS}
