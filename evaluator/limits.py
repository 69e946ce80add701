"""Every limit the evaluator enforces, explicit and configurable (the settings class fills it)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class EvalLimits:
    """Wall-clock limits are per stage; the memory limit is the candidate process's address space."""

    load_timeout_s: float = 60.0
    correctness_timeout_s: float = 120.0
    timing_timeout_s: float = 120.0
    reference_timeout_s: float = 300.0
    memory_bytes: int = 8 * 1024**3
    cpu_threads: int = 1
    trials: int = 3
    warmup_ms: float = 50.0
    timing_budget_ms: float = 400.0
    min_samples: int = 10
    max_samples: int = 1000
    interpreted_samples: int = 2
    max_plausible_speedup: float = 25.0  # above this (or above the roofline) a result is re-verified
    reverify: bool = True
    profile: bool = True  # profiler feedback per shape after timing (torch profiler; ncu where enabled)
    sandbox: bool = True  # OS isolation for candidates where the machine allows it (evaluator.isolation)
    max_processes: int = 4096
    # Share of the GPU's memory one candidate may allocate through PyTorch; below 1.0 only where
    # several slots share a GPU, so that one candidate's hoarding cannot starve the others.
    gpu_memory_fraction: float = 1.0
    # "events"; "cuda_graph": graph replays for every shape; "auto": graph replays for the shapes whose
    # reference runs under ``graph_below_us`` by events, too short for per-launch events to time well.
    timing_method: str = "events"
    graph_below_us: float = 20.0
    ncu: bool = True  # hardware counters from Nsight Compute for passing candidates, where ncu is present

    def stage_timeout(self, stage: str) -> float:
        return {
            "load": self.load_timeout_s,
            "correctness": self.correctness_timeout_s,
            "timing": self.timing_timeout_s,
            "reference": self.reference_timeout_s,
        }.get(stage, self.load_timeout_s)
