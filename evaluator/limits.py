"""Every limit the evaluator enforces: one definition, with its defaults and bounds.

``service.settings.Settings`` inherits these fields, so ``CRUCIBLE_<FIELD>`` sets each of them
and the CLI, the benchmarks and the tests all start from the same defaults. A run stores the
limits it was started with (``EvalLimits.model_dump``), so whoever resumes it judges its
candidates by them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class EvalLimits(BaseModel):
    """Wall-clock limits are per stage; the memory limit is the candidate process's address space."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    load_timeout_s: float = Field(default=60.0, gt=0)
    correctness_timeout_s: float = Field(default=120.0, gt=0)
    timing_timeout_s: float = Field(default=120.0, gt=0)
    reference_timeout_s: float = Field(default=300.0, gt=0)
    memory_limit_bytes: int = Field(default=8 * 1024**3, gt=0)
    # CPU threads the reference and every candidate get; on the CPU also the cores a candidate's
    # timed calls may keep busy.
    cpu_threads: int = Field(default=1, ge=1)
    trials: int = Field(default=3, ge=2)
    warmup_ms: float = Field(default=50.0, ge=0)
    timing_budget_ms: float = Field(default=400.0, ge=0)
    min_samples: int = Field(default=10, ge=1)
    max_samples: int = Field(default=1000, ge=1)
    interpreted_samples: int = Field(default=2, ge=1)
    # Above this speedup (or above the roofline) a result is re-verified in a fresh process.
    max_plausible_speedup: float = Field(default=25.0, gt=1)
    reverify: bool = True
    profile: bool = True  # profiler feedback per shape after timing (torch profiler; ncu where enabled)
    sandbox: bool = True  # OS isolation for candidates where the machine allows it (evaluator.isolation)
    max_processes: int = Field(default=4096, ge=16)
    # Share of the GPU's memory one candidate may allocate through PyTorch; below 1.0 only where
    # several slots share a GPU, so that one candidate's hoarding cannot starve the others.
    gpu_memory_fraction: float = Field(default=1.0, gt=0, le=1)
    # "events"; "cuda_graph": graph replays for every shape; "auto": graph replays for the shapes whose
    # reference runs under ``graph_below_us`` by events, too short for per-launch events to time well.
    timing_method: Literal["events", "cuda_graph", "auto"] = "auto"
    graph_below_us: float = Field(default=20.0, gt=0)
    ncu: bool = True  # hardware counters from Nsight Compute for passing candidates, where ncu is present

    def stage_timeout(self, stage: str) -> float:
        return {
            "load": self.load_timeout_s,
            "correctness": self.correctness_timeout_s,
            "timing": self.timing_timeout_s,
            "reference": self.reference_timeout_s,
        }.get(stage, self.load_timeout_s)

    def changed(self, **fields: object) -> EvalLimits:
        """A copy with ``fields`` replaced, validated like the original."""
        return EvalLimits.model_validate({**self.model_dump(), **fields})

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(EvalLimits.model_fields)
