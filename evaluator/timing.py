"""Timing: warm up, take many samples, report the median and IQR. Reference and candidate alike.

On the CPU each sample is one call bracketed by ``perf_counter_ns``. On CUDA each sample is
bracketed by events after an L2 flush, and the whole device is synchronized before the end
time is read, so work hidden on side streams is counted.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter, perf_counter_ns  # bound at import, before any candidate code runs
from typing import Any

Call = Callable[[Sequence[Any]], Any]
# Called after a sample's time is taken, with the sample's index and the call's output, so a
# few timed outputs can be checked too (a kernel may not be right only when it is watched).
OnSample = Callable[[int, Any], None]


@dataclass(frozen=True)
class TimingPlan:
    warmup_ms: float = 50.0
    budget_ms: float = 400.0
    min_samples: int = 10
    max_samples: int = 1000
    warmup_calls: int = 2  # calls made before sampling even when warmup_ms has already passed


@dataclass(frozen=True)
class TimingStats:
    median_us: float
    iqr_us: float
    samples: int
    method: str


def summarize(samples_us: Sequence[float], method: str) -> TimingStats:
    """Median and interquartile range; robust to the odd preempted sample."""
    if len(samples_us) < 2:
        value = samples_us[0] if samples_us else float("nan")
        return TimingStats(value, 0.0, len(samples_us), method)
    q1, _, q3 = statistics.quantiles(samples_us, n=4, method="inclusive")
    return TimingStats(statistics.median(samples_us), q3 - q1, len(samples_us), method)


def time_cpu(
    call: Call, input_sets: Sequence[Sequence[Any]], plan: TimingPlan, on_sample: OnSample | None = None
) -> TimingStats:
    """Time ``call`` on the CPU, rotating through input sets so results cannot be cached by pointer."""
    warm_end = perf_counter() + plan.warmup_ms / 1e3
    i = 0
    while i < plan.warmup_calls or perf_counter() < warm_end:
        call(input_sets[i % len(input_sets)])
        i += 1
    samples: list[float] = []
    budget_end = perf_counter() + plan.budget_ms / 1e3
    while len(samples) < plan.max_samples and (
        len(samples) < plan.min_samples or perf_counter() < budget_end
    ):
        inputs = input_sets[len(samples) % len(input_sets)]
        start = perf_counter_ns()
        output = call(inputs)
        samples.append((perf_counter_ns() - start) / 1e3)
        if on_sample is not None:
            on_sample(len(samples) - 1, output)
    return summarize(samples, "cpu_perf_counter")


def time_cuda(
    call: Call, input_sets: Sequence[Sequence[Any]], plan: TimingPlan, on_sample: OnSample | None = None
) -> TimingStats:
    """Time ``call`` on the current CUDA device with events, an L2 flush and a full-device sync."""
    import torch

    flush = l2_flush_buffer()
    torch.cuda.synchronize()
    warm_end = perf_counter() + plan.warmup_ms / 1e3
    i = 0
    while i < plan.warmup_calls or perf_counter() < warm_end:
        call(input_sets[i % len(input_sets)])
        i += 1
    torch.cuda.synchronize()
    samples: list[float] = []
    budget_end = perf_counter() + plan.budget_ms / 1e3
    while len(samples) < plan.max_samples and (
        len(samples) < plan.min_samples or perf_counter() < budget_end
    ):
        inputs = input_sets[len(samples) % len(input_sets)]
        flush.zero_()
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        output = call(inputs)
        end.record()
        torch.cuda.synchronize()  # the whole device, so side-stream work lands before `end` is read
        samples.append(start.elapsed_time(end) * 1e3)
        if on_sample is not None:
            on_sample(len(samples) - 1, output)
    return summarize(samples, "cuda_events_l2_flush")


def l2_flush_buffer() -> Any:
    """A buffer at least twice the device's L2, zeroed before each sample to evict cached data."""
    import torch

    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    l2_bytes = int(getattr(props, "L2_cache_size", 0) or 50 * 1024**2)
    return torch.empty(max(2 * l2_bytes, 64 * 1024**2) // 4, dtype=torch.int32, device="cuda")


def time_call(
    device: str,
    call: Call,
    input_sets: Sequence[Sequence[Any]],
    plan: TimingPlan,
    on_sample: OnSample | None = None,
) -> TimingStats:
    timer = time_cuda if device.startswith("cuda") else time_cpu
    return timer(call, input_sets, plan, on_sample)
