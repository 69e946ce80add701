"""Evaluation results as documents: the device, per-shape metrics, a verdict, ``evaluate``'s output."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from pydantic import Field

from evaluator.types import Stage, Status
from service.schemas.base import Config, Document, ProfileOut

if TYPE_CHECKING:
    from evaluator.types import DeviceInfo, EvalResult, ShapeMetrics
    from kernels.candidate import Candidate


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
    compiled_median_us: float | None = Field(
        description="median latency of torch.compile of the reference, microseconds, where the run timed it"
    )
    speedup_vs_compiled: float | None = Field(description="compiled_median_us / median_us")

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
    speedup_vs_compiled: float | None = Field(
        description="the same against torch.compile of the reference; null unless timed on every shape"
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
        "speedup_vs_compiled": result.speedup_vs_compiled,
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
