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
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from resource import RUSAGE_CHILDREN, getrusage  # bound before candidate code runs
from time import perf_counter, perf_counter_ns, process_time_ns  # bound before candidate code runs
from typing import Any

from evaluator.probes import LOCAL_SAMPLES, SETTLE_CALLS, ProbeCall

Call = Callable[[Sequence[Any]], Any]
CPU_METHOD = "cpu_perf_counter"
CUDA_METHOD = "cuda_events_l2_flush"
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
    stability: float = 0.005  # past the budget, sample until the median moves less than this
    max_overrun: float = 3.0  # ...but never longer than this many budgets
    # On CUDA: "events"; "cuda_graph" reports graph-replay timing (evaluator.cuda_graph_timing);
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


def figures_from_message(data: Mapping[str, Any]) -> list[TimingStats]:
    """A child's ``timing`` message back into its figures, the reported one first."""

    def one(d: Mapping[str, Any]) -> TimingStats:
        cores = d.get("cores")
        return TimingStats(
            float(d["median_us"]),
            float(d["iqr_us"]),
            int(d["samples"]),
            str(d["method"]),
            None if cores is None else float(cores),
        )

    return [one(data), *(one(a) for a in data.get("alternates", []))]


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
    cores = (_cpu_time_ns() - cpu_start) / max(1, perf_counter_ns() - wall_start)
    return replace(summarize(samples, CPU_METHOD), cores=cores)


def _cpu_time_ns() -> int:
    """This process's CPU time, every thread, plus that of its children once reaped: a child
    forked to do half of a call, and waited for before it returns, is counted too."""
    children = getrusage(RUSAGE_CHILDREN)
    return process_time_ns() + round((children.ru_utime + children.ru_stime) * 1e9)


def _cpu_sample(call: Call, inputs: Sequence[Any]) -> tuple[float, Any]:
    start = perf_counter_ns()
    output = call(inputs)
    return (perf_counter_ns() - start) / 1e3, output


def time_cuda(
    call: Call, input_sets: Sequence[Sequence[Any]], plan: TimingPlan, on_sample: OnSample | None = None
) -> TimingStats:
    """Time ``call`` on the current CUDA device with events, an L2 flush and a full-device sync."""
    import torch

    flush = l2_flush_buffer()
    torch.cuda.synchronize()
    _warm_up(call, input_sets, plan)
    torch.cuda.synchronize()
    measure = functools.partial(_cuda_sample, flush, call)
    return summarize(_sample(measure, input_sets, plan, on_sample), CUDA_METHOD)


def _cuda_sample(flush: Any, call: Call, inputs: Sequence[Any]) -> tuple[float, Any]:
    """One call after an L2 flush, bracketed by events, the whole device synchronized after."""
    import torch

    from evaluator.devices import reset_persisting_l2

    reset_persisting_l2()  # lines marked persisting would survive the flush
    flush.zero_()
    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    output = call(inputs)
    end.record()
    torch.cuda.synchronize()  # the whole device, so side-stream work lands before `end` is read
    return start.elapsed_time(end) * 1e3, output


def time_probe(
    device: str,
    call: Call,
    input_sets: Sequence[Sequence[Any]],
    probe: Sequence[Any],
    position: int,
) -> tuple[ProbeCall, Any]:
    """One call on ``probe`` timed as sample ``position`` of a short loop over the seen
    ``input_sets``, every sample staged into the same buffers and timed alike, after a few
    untimed calls that let caches and the allocator settle (``evaluator.probes``).

    Returns the probe's figures and its output.
    """
    if not 0 <= position <= LOCAL_SAMPLES:
        raise ValueError(f"probe position {position} is outside a loop of {LOCAL_SAMPLES + 1} samples")
    measure, method = _sampler(device, call)
    staged = StagedInputs(input_sets)
    for i in range(SETTLE_CALLS):
        call(staged.stage(i))
    local: list[float] = []
    probe_us, output = 0.0, None
    for i in range(LOCAL_SAMPLES + 1):
        if i == position:
            probe_us, output = measure(refill(staged.buffers, probe))
        else:
            local.append(measure(staged.stage(SETTLE_CALLS + i))[0])
    return ProbeCall(probe_us, statistics.median(local), method), output


def _sampler(device: str, call: Call) -> tuple[Callable[[Sequence[Any]], tuple[float, Any]], str]:
    """How one sample of ``call`` is measured on ``device``, as the timed loop measures it, and
    the name of that method."""
    if not device.startswith("cuda"):
        return functools.partial(_cpu_sample, call), CPU_METHOD
    import torch

    flush = l2_flush_buffer()
    torch.cuda.synchronize()
    return functools.partial(_cuda_sample, flush, call), CUDA_METHOD


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
    on_graph_output: OnSample | None = None,
) -> list[TimingStats]:
    """The plan's method on this device: the figure to report first, then any other taken.

    On CUDA, event timing always runs, so the timed outputs are checked whatever the method and
    an event figure is there to compare with. Graph replays follow where the plan asks for them
    (always for "cuda_graph", below ``graph_below_us`` for "auto") and the call can be captured;
    ``TimingStats.method`` says which figure is which.
    """
    if not device.startswith("cuda"):
        return [time_cpu(call, input_sets, plan, on_sample)]
    events = time_cuda(call, input_sets, plan, on_sample)
    wants_graph = plan.method == "cuda_graph" or (
        plan.method == "auto" and events.median_us < plan.graph_below_us
    )
    if not wants_graph:
        return [events]
    from evaluator.cuda_graph_timing import GraphCaptureError, time_cuda_graph

    try:
        return [time_cuda_graph(call, input_sets, plan, on_output=on_graph_output), events]
    except GraphCaptureError:
        return [events]


def shape_method(reference: TimingStats) -> str:
    """The plan method a candidate uses on a shape, so it is timed as the reference was."""
    from evaluator.cuda_graph_timing import METHOD as GRAPH_METHOD

    return "cuda_graph" if reference.method == GRAPH_METHOD else "events"


def same_method(candidate: TimingStats, reference: Sequence[TimingStats]) -> TimingStats:
    """The reference figure taken by the candidate's method, else the reference's first figure
    (which ``incomparable`` then declines to compare)."""
    return next((r for r in reference if r.method == candidate.method), reference[0])
