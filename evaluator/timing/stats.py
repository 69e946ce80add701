"""What a timing is: the plan it follows and the figures it reports, and how two figures compare.

Both sides of the process boundary use these: the child fills them, the evaluator reads them.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

Call = Callable[[Sequence[Any]], Any]
# Called after a sample's time is taken, with the sample's index and the call's output, so a
# few timed outputs can be checked too (a kernel may not be right only when it is watched).
OnSample = Callable[[int, Any], None]
CPU_METHOD = "cpu_perf_counter"
CUDA_METHOD = "cuda_events_l2_flush"


@dataclass(frozen=True)
class TimingPlan:
    warmup_ms: float = 50.0
    budget_ms: float = 400.0
    min_samples: int = 10
    max_samples: int = 1000
    warmup_calls: int = 2  # calls made before sampling even when warmup_ms has already passed
    stability: float = 0.005  # past the budget, sample until the median moves less than this
    max_overrun: float = 3.0  # ...but never longer than this many budgets
    # On CUDA: "events"; "cuda_graph" reports graph-replay timing (evaluator.timing.cuda_graph);
    # "auto" uses graph replays only where the event median is below ``graph_below_us``.
    method: str = "events"
    graph_below_us: float = 20.0


@dataclass(frozen=True)
class TimingStats:
    median_us: float
    iqr_us: float
    samples: int
    method: str
    # On the CPU: the process's CPU time over the wall time of the sampling, every thread and
    # waited-for child counted: the cores kept busy on average. None where not measured (CUDA).
    cores: float | None = None


def summarize(samples_us: Sequence[float], method: str) -> TimingStats:
    """Median and interquartile range; robust to the odd preempted sample."""
    if len(samples_us) < 2:
        value = samples_us[0] if samples_us else float("nan")
        return TimingStats(value, 0.0, len(samples_us), method)
    q1, _, q3 = statistics.quantiles(samples_us, n=4, method="inclusive")
    return TimingStats(statistics.median(samples_us), q3 - q1, len(samples_us), method)


def incomparable(candidate: TimingStats, reference: TimingStats) -> str | None:
    """Why two timings cannot make a speedup, or None when they can.

    Another method measures something else (graph replay has no launch cost), and a median at or
    below zero (possible when graph mode subtracts the flush from a kernel below its resolution)
    or not a number divides into nonsense.
    """
    if candidate.method != reference.method:
        return f"timed by {candidate.method}, the reference by {reference.method}"
    for who, stats in (("the candidate", candidate), ("the reference", reference)):
        if not stats.median_us > 0:  # NaN fails this too
            return f"{who}'s median ({stats.median_us:.3g} us) is below what {stats.method} can resolve"
    return None


def too_many_cores(shape: str, stats: TimingStats, allowed: int) -> str | None:
    """Why a CPU timing kept more cores busy than the ``allowed`` the reference had, or None.

    Ten percent over is left to noise. Beyond that, part of the work ran on other threads or
    processes, and the speedup would come from cores, not from the kernel.
    """
    if stats.cores is None or stats.cores <= allowed * 1.1:
        return None
    return (
        f"shape {shape}: the timed calls kept {stats.cores:.2f} CPU cores busy on average; candidates "
        f"get {allowed}, as the reference does (CRUCIBLE_CPU_THREADS), so a speedup from more is no speedup"
    )


def median_is_stable(samples_us: Sequence[float], tolerance: float) -> bool:
    """The median of all samples is within ``tolerance`` of the median of the first 80% of them."""
    if len(samples_us) < 10:
        return False
    full = statistics.median(samples_us)
    head = statistics.median(samples_us[: int(len(samples_us) * 0.8)])
    return abs(full - head) <= tolerance * full


def same_method(candidate: TimingStats, reference: Sequence[TimingStats]) -> TimingStats:
    """The reference figure taken by the candidate's method, else the reference's first figure
    (which ``incomparable`` then declines to compare)."""
    return next((r for r in reference if r.method == candidate.method), reference[0])
