"""The evaluator's verdict: one status, the stage reached, a reason, and per-shape metrics."""

from __future__ import annotations

import functools
import math
from dataclasses import asdict, dataclass, field
from enum import Enum
from typing import Any


class Status(str, Enum):
    OK = "ok"
    COMPILE_ERROR = "compile_error"
    RUNTIME_ERROR = "runtime_error"
    WRONG_OUTPUT = "wrong_output"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    OUT_OF_MEMORY = "out_of_memory"
    CRASHED = "crashed"


class Stage(str, Enum):
    """How far an evaluation got, in order."""

    STATIC_GATE = "static_gate"
    REFERENCE = "reference"
    LOAD = "load"
    CORRECTNESS = "correctness"
    TIMING = "timing"
    DONE = "done"


@dataclass(frozen=True)
class DeviceInfo:
    """What a result was measured on. Results are always keyed by ``key``."""

    key: str
    kind: str
    name: str
    driver: str | None
    torch_version: str
    triton_version: str | None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class ShapeMetrics:
    """Measurements for one shape. Latencies in microseconds; speedup = reference / candidate."""

    shape: str
    median_us: float | None = None
    iqr_us: float | None = None
    samples: int = 0
    max_abs_err: float | None = None
    max_rel_err: float | None = None
    peak_mem_bytes: int | None = None
    ref_median_us: float | None = None
    ref_iqr_us: float | None = None
    speedup: float | None = None
    achieved_gbps: float | None = None
    achieved_tflops: float | None = None
    peak_fraction: float | None = None
    interpreted: bool = False
    timing_method: str | None = None  # how median_us was taken (events, graph replays, CPU clock)
    cpu_cores: float | None = None  # on the CPU: the cores the timed calls kept busy on average
    # ``torch.compile`` of the reference, timed by the same method, where the run asked for it.
    compiled_median_us: float | None = None
    speedup_vs_compiled: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class KernelTime:
    """One kernel (GPU) or operator (CPU), its self time summed over the profiled calls."""

    name: str
    calls: int  # launches over all profiled calls
    total_us: float  # self time over all profiled calls
    share: float  # of all kernel (or op) self time in the profile, 0..1


@dataclass(frozen=True)
class RooflinePosition:
    """Where a call sits under the device's roofs, from the work the problem declares."""

    latency_us: float | None = None
    achieved_gbps: float | None = None
    achieved_tflops: float | None = None
    peak_fraction: float | None = None  # the larger share of the two roofs
    memory_fraction: float | None = None
    compute_fraction: float | None = None
    bound: str | None = None  # "memory" | "compute" | None where it cannot be told


@dataclass(frozen=True)
class ProfileReport:
    """Profiler feedback on one shape: the kernels, a curated metric set and the roofline.

    Both profilers (``torch.profiler`` in the candidate's process, Nsight Compute around it) end
    in this one type, so the prompt builder and the store read one shape. ``summary`` is a single
    line a prompt can quote as is.
    """

    source: str  # "ncu" | "torch_profiler"
    kernels: list[KernelTime]
    metrics: dict[str, float]
    roofline: RooflinePosition
    summary: str
    profiled_calls: int = 1  # candidate calls the profile covers; per-call time is total / this
    notes: list[str] = field(default_factory=list)

    @property
    def busy_us_per_call(self) -> float:
        return sum(k.total_us for k in self.kernels) / max(self.profiled_calls, 1)


@dataclass(frozen=True)
class NcuReport:
    """The Nsight Compute pass over one shape: its report, or why there is none."""

    shape: str
    report: ProfileReport | None = None
    error: str | None = None


@dataclass(frozen=True)
class Profile:
    """Everything the profilers said about one candidate, as the agent reads it."""

    summary: str  # one line for prompts: the largest shape's, or the ncu one when there is one
    shapes: dict[str, ProfileReport] = field(default_factory=dict)
    ncu: NcuReport | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Profile:
        """Back from the store's JSON; an ncu entry kept flat (its report's fields beside ``shape``)
        is read too."""
        ncu = data.get("ncu")
        if isinstance(ncu, dict) and "report" not in ncu and "error" not in ncu:
            shape = ncu.get("shape", "")
            ncu = {"shape": shape, "report": {k: v for k, v in ncu.items() if k != "shape"}}
        return _profile_adapter().validate_python({**data, "ncu": ncu})


@functools.cache
def _profile_adapter() -> Any:
    from pydantic import TypeAdapter

    return TypeAdapter(Profile)


@dataclass(frozen=True)
class EvalResult:
    """One evaluation of one candidate on one device."""

    status: Status
    stage: Stage
    reason: str
    shapes: tuple[ShapeMetrics, ...] = ()
    device: DeviceInfo | None = None
    interpreted: bool = False
    scaled_down: bool = False
    duration_s: float = 0.0
    suspect: bool = False  # flagged as implausible and not (yet) confirmed: never ranked
    verification: str = ""  # what re-verification found, when a result was flagged
    profile: Profile | None = None  # profiler feedback, where profiling was on and the candidate passed
    phase_seconds: dict[str, float] | None = None  # where the time went (``evaluator.phases``)

    @property
    def ok(self) -> bool:
        return self.status is Status.OK

    @property
    def speedup(self) -> float | None:
        """Geometric mean of per-shape speedups; None unless ok, really timed and not suspect."""
        if not self.ok or self.interpreted or self.suspect:
            return None
        return _geomean_over_shapes([s.speedup for s in self.shapes])

    @property
    def speedup_vs_compiled(self) -> float | None:
        """The same against ``torch.compile`` of the reference; None unless every shape has one."""
        if not self.ok or self.interpreted or self.suspect:
            return None
        return _geomean_over_shapes([s.speedup_vs_compiled for s in self.shapes])

    @property
    def latency_us(self) -> float | None:
        """Geometric mean of per-shape median latency, for ranking on one device."""
        values = [s.median_us for s in self.shapes if s.median_us is not None and s.median_us > 0]
        if not self.ok or self.interpreted or self.suspect or not values or len(values) != len(self.shapes):
            return None
        return math.exp(sum(math.log(v) for v in values) / len(values))

    @property
    def max_error(self) -> float | None:
        errs = [s.max_abs_err for s in self.shapes if s.max_abs_err is not None]
        return max(errs) if errs else None

    @property
    def peak_mem_bytes(self) -> int | None:
        mems = [s.peak_mem_bytes for s in self.shapes if s.peak_mem_bytes is not None]
        return max(mems) if mems else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "status": self.status.value,
            "stage": self.stage.value,
            "reason": self.reason,
            "speedup": self.speedup,
            "speedup_vs_compiled": self.speedup_vs_compiled,
            "interpreted": self.interpreted,
            "scaled_down": self.scaled_down,
            "suspect": self.suspect,
            "verification": self.verification,
            "profile": self.profile.to_dict() if self.profile else None,
            "duration_s": round(self.duration_s, 3),
            "phase_seconds": self.phase_seconds,
            "device": self.device.to_dict() if self.device else None,
            "shapes": [s.to_dict() for s in self.shapes],
        }


def _geomean_over_shapes(values: list[float | None]) -> float | None:
    """The geometric mean, or None where any shape lacks a value (a partial mean would flatter)."""
    if not values or any(v is None or v <= 0 for v in values):
        return None
    return math.exp(sum(math.log(v) for v in values if v is not None) / len(values))
