"""Timing: warm up, take many samples, report the median and IQR. Reference and candidate alike.

On the CPU each sample is one call bracketed by ``perf_counter_ns``, and the process's CPU time
is read before and after the samples: the cores they kept busy on average, which a candidate may
not raise above what the reference is given. On CUDA each sample is bracketed by events after an L2 flush, and
the whole device is synchronized before the end time is read, so work hidden on side streams is
counted.
"""

from __future__ import annotations

import functools
import statistics
from collections.abc import Callable, Sequence
from dataclasses import replace
from resource import RUSAGE_CHILDREN, getrusage  # bound before candidate code runs
from time import perf_counter, perf_counter_ns, process_time_ns  # bound before candidate code runs
from typing import Any

from evaluator.checks.probes import LOCAL_SAMPLES, SETTLE_CALLS, ProbeCall
from evaluator.timing.cuda_events import cuda_sample, l2_flush_buffer
from evaluator.timing.stats import (
    CPU_METHOD,
    CUDA_METHOD,
    Call,
    OnSample,
    TimingPlan,
    TimingStats,
    median_is_stable,
    summarize,
)

MIN_CORES_WINDOW_NS = 50_000_000  # the shortest sampling over which the cores figure is kept


class StagedInputs:
    """One set of input buffers whose contents change to the next input set before every sample.

    The addresses stay put while the values move, so a result cached by pointer is the answer
    to the previous sample's inputs: a wrong answer, which the checked timed outputs catch.
    """

    def __init__(self, input_sets: Sequence[Sequence[Any]]) -> None:
        self.input_sets = input_sets
        self.buffers = [_clone(v) for v in input_sets[0]]

    def stage(self, index: int) -> Sequence[Any]:
        return refill(self.buffers, self.input_sets[index % len(self.input_sets)])


def refill(buffers: Sequence[Any], values: Sequence[Any]) -> list[Any]:
    """``values`` copied into ``buffers`` in place where shape and dtype allow, else ``values``."""
    filled = []
    for buffer, value in zip(buffers, values, strict=True):
        same_kind = hasattr(buffer, "copy_") and hasattr(value, "shape") and hasattr(value, "dtype")
        if same_kind and buffer.shape == value.shape and buffer.dtype == value.dtype:
            buffer.copy_(value)
            filled.append(buffer)
        else:
            filled.append(value)
    return filled


def _clone(value: Any) -> Any:
    return value.clone() if hasattr(value, "clone") else value


def _sample(
    measure: Callable[[Sequence[Any]], tuple[float, Any]],
    input_sets: Sequence[Sequence[Any]],
    plan: TimingPlan,
    on_sample: OnSample | None,
) -> list[float]:
    """Samples until the time budget is spent and the median is stable (or a hard limit is hit).

    ``measure`` runs one call and returns (microseconds, output). Sample ``i`` runs on input set
    ``i % len(input_sets)``, staged into the same buffers (see ``StagedInputs``).
    """
    staged = StagedInputs(input_sets)
    samples: list[float] = []
    start = perf_counter()
    budget_end = start + plan.budget_ms / 1e3
    hard_end = start + plan.budget_ms * plan.max_overrun / 1e3
    while len(samples) < plan.max_samples:
        if len(samples) >= plan.min_samples:
            now = perf_counter()
            if now >= hard_end:
                break
            if now >= budget_end and len(samples) % 10 == 0 and median_is_stable(samples, plan.stability):
                break
        elapsed_us, output = measure(staged.stage(len(samples)))
        samples.append(elapsed_us)
        if on_sample is not None:
            on_sample(len(samples) - 1, output)
    return samples


def _warm_up(call: Call, input_sets: Sequence[Sequence[Any]], plan: TimingPlan) -> None:
    """Time-based, so clocks and caches settle whatever the kernel's length."""
    warm_end = perf_counter() + plan.warmup_ms / 1e3
    i = 0
    while i < plan.warmup_calls or perf_counter() < warm_end:
        call(input_sets[i % len(input_sets)])
        i += 1


def time_cpu(
    call: Call, input_sets: Sequence[Sequence[Any]], plan: TimingPlan, on_sample: OnSample | None = None
) -> TimingStats:
    """Time ``call`` on the CPU, each sample bracketed by ``perf_counter_ns``.

    The process's CPU time is read once before the samples and once after, against the wall
    time between: the cores the sampling kept busy on average. The harness's own work between
    calls runs on the calling thread, so an honest candidate reads at most one core per thread it
    was given; threads of torch's pools, native ones, or child processes the calls wait for
    raise it. Two reads in all, so no per-sample cost skews the figure on short calls.
    """
    _warm_up(call, input_sets, plan)
    cpu_start, wall_start = _cpu_time_ns(), perf_counter_ns()
    samples = _sample(functools.partial(_cpu_sample, call), input_sets, plan, on_sample)
    wall_ns = perf_counter_ns() - wall_start
    cores = (_cpu_time_ns() - cpu_start) / max(1, wall_ns)
    # A window of a few short calls is all noise: a scheduler tick or a page of accounting
    # decides it. Such a figure is not kept, so no verdict rests on it.
    return replace(summarize(samples, CPU_METHOD), cores=cores if wall_ns >= MIN_CORES_WINDOW_NS else None)


def _cpu_time_ns() -> int:
    """This process's CPU time, every thread, plus that of its children once reaped: a child
    forked to do half of a call, and waited for before it returns, is counted too."""
    children = getrusage(RUSAGE_CHILDREN)
    return process_time_ns() + round((children.ru_utime + children.ru_stime) * 1e9)


def _cpu_sample(call: Call, inputs: Sequence[Any]) -> tuple[float, Any]:
    start = perf_counter_ns()
    output = call(inputs)
    return (perf_counter_ns() - start) / 1e3, output


def _cpu_sample_both(call: Call, inputs: Sequence[Any]) -> tuple[float, float, Any]:
    """One call's wall-clock and CPU time (every thread, and children reaped), microseconds."""
    cpu_start, start = _cpu_time_ns(), perf_counter_ns()
    output = call(inputs)
    wall_ns, cpu_ns = perf_counter_ns() - start, _cpu_time_ns() - cpu_start
    return wall_ns / 1e3, cpu_ns / 1e3, output


def time_cuda(
    call: Call, input_sets: Sequence[Sequence[Any]], plan: TimingPlan, on_sample: OnSample | None = None
) -> TimingStats:
    """Time ``call`` on the current CUDA device with events, an L2 flush and a full-device sync."""
    import torch

    measure, method = _sampler("cuda", call)
    _warm_up(call, input_sets, plan)
    torch.cuda.synchronize()
    return summarize(_sample(measure, input_sets, plan, on_sample), method)


def time_probe(
    device: str,
    call: Call,
    input_sets: Sequence[Sequence[Any]],
    probe: Sequence[Any],
    position: int,
) -> tuple[ProbeCall, Any]:
    """One call on ``probe`` timed as sample ``position`` of a short loop over the seen
    ``input_sets``, every sample staged into the same buffers and timed alike, after a few
    untimed calls that let caches and the allocator settle (``evaluator.checks.probes``).

    Returns the probe's figures and its output.
    """
    if not 0 <= position <= LOCAL_SAMPLES:
        raise ValueError(f"probe position {position} is outside a loop of {LOCAL_SAMPLES + 1} samples")
    staged = StagedInputs(input_sets)
    for i in range(SETTLE_CALLS):
        call(staged.stage(i))
    if not device.startswith("cuda"):
        return _time_probe_on_cpu(call, staged, probe, position)
    measure, method = _sampler(device, call)
    local: list[float] = []
    probe_us, output = 0.0, None
    for i in range(LOCAL_SAMPLES + 1):
        if i == position:
            probe_us, output = measure(refill(staged.buffers, probe))
        else:
            local.append(measure(staged.stage(SETTLE_CALLS + i))[0])
    return ProbeCall(probe_us, statistics.median(local), method), output


def _time_probe_on_cpu(
    call: Call, staged: StagedInputs, probe: Sequence[Any], position: int
) -> tuple[ProbeCall, Any]:
    """The probe loop on the CPU, each sample by the wall clock and by the CPU time it used: a
    single call that another process preempted for a scheduler tick is slow by the wall clock
    only, a cache that misses is slow by both (``ProbeCall.is_slow``)."""
    local_wall: list[float] = []
    local_cpu: list[float] = []
    probe_wall, probe_cpu, output = 0.0, 0.0, None
    for i in range(LOCAL_SAMPLES + 1):
        if i == position:
            probe_wall, probe_cpu, output = _cpu_sample_both(call, refill(staged.buffers, probe))
        else:
            wall, cpu, _ = _cpu_sample_both(call, staged.stage(SETTLE_CALLS + i))
            local_wall.append(wall)
            local_cpu.append(cpu)
    median_wall, median_cpu = statistics.median(local_wall), statistics.median(local_cpu)
    return ProbeCall(probe_wall, median_wall, CPU_METHOD, probe_cpu, median_cpu), output


def _sampler(device: str, call: Call) -> tuple[Callable[[Sequence[Any]], tuple[float, Any]], str]:
    """How one sample of ``call`` is measured on ``device``, as the timed loop measures it, and
    the name of that method."""
    if not device.startswith("cuda"):
        return functools.partial(_cpu_sample, call), CPU_METHOD
    import torch

    flush = l2_flush_buffer()
    torch.cuda.synchronize()
    return functools.partial(cuda_sample, flush, call), CUDA_METHOD
