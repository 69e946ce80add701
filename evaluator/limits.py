"""Every limit the evaluator enforces: one definition, with its defaults, bounds and meaning.

``service.settings.Settings`` inherits these fields, so ``CRUCIBLE_<FIELD>`` sets each of them
and the CLI, the benchmarks and the tests all start from the same defaults. A run stores the
limits it was started with (``EvalLimits.model_dump``), so whoever resumes it judges its
candidates by them. ``docs/configuration.md`` is generated from the descriptions here.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from evaluator.types import Stage


class EvalLimits(BaseModel):
    """Wall-clock limits are per stage; the memory limit is the candidate process's address space."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    load_timeout_s: float = Field(
        default=60.0, gt=0, description="limit for process start, import and construction"
    )
    correctness_timeout_s: float = Field(default=120.0, gt=0, description="limit for the correctness trials")
    timing_timeout_s: float = Field(default=120.0, gt=0, description="limit for timing, probes included")
    reference_timeout_s: float = Field(default=300.0, gt=0, description="limit for the reference process")
    memory_limit_bytes: int = Field(
        default=8 * 1024**3, gt=0, description="a candidate's memory limit on the CPU"
    )
    cpu_threads: int = Field(
        default=1,
        ge=1,
        description="torch threads in every child, reference and candidate alike; on the CPU, a candidate"
        " whose timed calls keep more cores than this busy is rejected",
    )
    trials: int = Field(
        default=3, ge=2, description="correctness trials per shape (the last one heavy-tailed)"
    )
    warmup_ms: float = Field(default=50.0, ge=0, description="time-based warm-up per shape")
    timing_budget_ms: float = Field(default=400.0, ge=0, description="sampling budget per shape")
    min_samples: int = Field(default=10, ge=1, description="fewest timing samples per shape")
    max_samples: int = Field(default=1000, ge=1, description="most timing samples per shape")
    interpreted_samples: int = Field(
        default=2, ge=1, description="samples for interpreted Triton (never ranked)"
    )
    max_plausible_speedup: float = Field(
        default=25.0, gt=1, description="above this speedup, or above the roofline, a result is re-verified"
    )
    reverify: bool = Field(default=True, description="re-verify implausible results in a fresh process")
    profile: bool = Field(default=True, description="profiler feedback per shape after timing")
    sandbox: bool = Field(
        default=True,
        description="OS isolation for candidates (namespaces, Landlock, cgroup, no capabilities)",
    )
    max_processes: int = Field(default=4096, ge=16, description="tasks (processes and threads) per candidate")
    gpu_memory_fraction: float = Field(
        default=1.0,
        gt=0,
        le=1,
        description="share of the GPU's memory one candidate may allocate through PyTorch; below 1"
        " where several slots share a GPU",
    )
    timing_method: Literal["events", "cuda_graph", "auto"] = Field(
        default="auto",
        description="events: per-launch CUDA events for every shape; cuda_graph: graph replays for every"
        " shape; auto: graph replays for the shapes whose reference runs under graph_below_us by events",
    )
    graph_below_us: float = Field(
        default=20.0, gt=0, description="the event-timed reference median below which auto uses graph replays"
    )
    ncu: bool = Field(
        default=True, description="an Nsight Compute pass for passing CUDA candidates, where ncu is installed"
    )
    compile_baseline: Literal["auto", "off", "default", "max-autotune"] = Field(
        default="auto",
        description="also time torch.compile of the reference in this mode, for speedups against what a"
        " user would otherwise run; auto: the default mode on CUDA, off on the CPU",
    )

    def compile_mode(self, device: str) -> str | None:
        """The torch.compile mode the reference is also timed in on ``device``; None: not at all."""
        if self.compile_baseline == "auto":
            return "default" if device.startswith("cuda") else None
        return None if self.compile_baseline == "off" else self.compile_baseline

    def stage_timeout(self, stage: Stage) -> float:
        return self.stage_timeouts().get(stage, self.load_timeout_s)

    def stage_timeouts(self) -> dict[Stage, float]:
        """Each stage's own limit: a child's clock restarts as it enters the next stage."""
        return {
            Stage.LOAD: self.load_timeout_s,
            Stage.REFERENCE: self.reference_timeout_s,
            Stage.CORRECTNESS: self.correctness_timeout_s,
            Stage.TIMING: self.timing_timeout_s,
        }

    def changed(self, **fields: object) -> EvalLimits:
        """A copy with ``fields`` replaced, validated like the original."""
        return EvalLimits.model_validate({**self.model_dump(), **fields})

    @classmethod
    def field_names(cls) -> frozenset[str]:
        return frozenset(EvalLimits.model_fields)
