"""Timing for kernels too short for per-launch events: CUDA graphs, with the L2 flush subtracted.

A few-microsecond kernel timed launch by launch measures the launch and the event overhead as
much as the kernel. Here K repetitions of (L2 flush + call) are captured in one graph, and K
flushes alone in another. Each replay is one launch for the whole graph, so per-call time is

    (replay time with calls - replay time of flushes alone) / K

Replays of the two graphs alternate, so drift in clocks or temperature touches both alike; the
median and IQR are taken over those per-replay differences.

Two differences from ``time_cuda``, so compare candidates measured the same way only. Graph
replay has no per-call launch cost, so short kernels read lower by about the launch overhead.
And the next flush in the graph pays for writing back the call's dirty L2 lines (up to the L2's
size of output), which ``time_cuda`` leaves outside its events: large outputs read a bit higher.

A call that synchronizes with the host, or does anything else CUDA graphs forbid, cannot be
captured; ``GraphCaptureError`` then says so, and the caller falls back to ``time_cuda``. A failed
capture leaves CUDA's random number generator unusable in that process, so draw inputs first. Graph
replays hand no outputs back for checking, so use this beside event timing, not instead of it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from time import perf_counter
from typing import Any

from evaluator.errors import EvaluatorError
from evaluator.timing.stats import Call, TimingPlan, TimingStats, summarize

METHOD = "cuda_graph_l2_flush"
TARGET_GRAPH_US = 2000.0  # long enough for event resolution and replay jitter to be small per call
MIN_REPETITIONS = 5
MAX_REPETITIONS = 500


class GraphCaptureError(EvaluatorError):
    """The call could not be captured in a CUDA graph (it syncs with the host, for example)."""


def time_cuda_graph(
    call: Call,
    input_sets: Sequence[Sequence[Any]],
    plan: TimingPlan,
    flush_bytes: int | None = None,
    repetitions: int | None = None,
    on_output: Callable[[int, Any], None] | None = None,
) -> TimingStats:
    """Median and IQR of per-call time over graph replays, on the current CUDA device.

    ``flush_bytes`` defaults to twice the L2 (at least 64 MiB), as ``time_cuda``'s flush does.
    ``repetitions`` (K) defaults to enough calls for a replay of about ``TARGET_GRAPH_US``.
    ``on_output(input_set, output)`` then receives the outputs of the last call on each input
    set, after one more replay, with those outputs poisoned beforehand: a call that does its work
    only when not being captured leaves the poison there, and one that replays a cached answer
    cannot be right for every input set.
    """
    import torch

    flush = _flush_buffer(flush_bytes)
    _warm_up(call, input_sets, plan, flush)
    k = repetitions or _choose_repetitions(call, input_sets, flush)
    flushes_only, with_calls = torch.cuda.CUDAGraph(), torch.cuda.CUDAGraph()
    try:
        with torch.cuda.graph(flushes_only):
            for _ in range(k):
                flush.zero_()
        last_outputs: dict[int, Any] = {}
        with torch.cuda.graph(with_calls):
            for j in range(k):
                flush.zero_()
                last_outputs[j % len(input_sets)] = call(input_sets[j % len(input_sets)])
    except RuntimeError as exc:
        raise GraphCaptureError(f"the call cannot be captured in a CUDA graph: {exc}") from exc
    for graph in (flushes_only, with_calls):
        graph.replay()  # the first replay uploads the graph; keep it out of the samples
    torch.cuda.synchronize()
    samples: list[float] = []
    budget_end = perf_counter() + plan.budget_ms / 1e3
    while len(samples) < plan.max_samples and (
        len(samples) < plan.min_samples or perf_counter() < budget_end
    ):
        baseline_us = _replay_us(flushes_only)
        total_us = _replay_us(with_calls)
        samples.append((total_us - baseline_us) / k)
    if on_output is not None:
        for output in last_outputs.values():
            for tensor in _tensors(output):
                tensor.fill_(float("nan") if tensor.is_floating_point() else -1)
        with_calls.replay()
        torch.cuda.synchronize()
        for input_set, output in sorted(last_outputs.items()):
            on_output(input_set, output)
    del flushes_only, with_calls
    return summarize(samples, METHOD)


def _tensors(output: Any) -> list[Any]:
    items = output if isinstance(output, (list, tuple)) else [output]
    return [t for t in items if hasattr(t, "fill_")]


def _flush_buffer(flush_bytes: int | None) -> Any:
    import torch

    if flush_bytes is None:
        from evaluator.timing.cuda_events import l2_flush_buffer

        return l2_flush_buffer()
    return torch.empty(max(flush_bytes, 4) // 4, dtype=torch.int32, device="cuda")


def _warm_up(call: Call, input_sets: Sequence[Sequence[Any]], plan: TimingPlan, flush: Any) -> None:
    """Compile and autotune before capture, on a side stream as torch.cuda.graphs asks."""
    import torch

    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    warm_end = perf_counter() + plan.warmup_ms / 1e3
    with torch.cuda.stream(side):
        i = 0
        while i < max(plan.warmup_calls, 3) or perf_counter() < warm_end:
            flush.zero_()
            call(input_sets[i % len(input_sets)])
            i += 1
    torch.cuda.current_stream().wait_stream(side)
    torch.cuda.synchronize()


def _choose_repetitions(call: Call, input_sets: Sequence[Sequence[Any]], flush: Any, probes: int = 5) -> int:
    """K so that one replay of the calls' graph lasts about ``TARGET_GRAPH_US``."""
    import torch

    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    for i in range(probes):
        flush.zero_()
        call(input_sets[i % len(input_sets)])
    end.record()
    torch.cuda.synchronize()
    per_pair_us = max(start.elapsed_time(end) * 1e3 / probes, 1e-3)
    return int(min(MAX_REPETITIONS, max(MIN_REPETITIONS, math.ceil(TARGET_GRAPH_US / per_pair_us))))


def _replay_us(graph: Any) -> float:
    import torch

    start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
    start.record()
    graph.replay()
    end.record()
    torch.cuda.synchronize()  # the whole device, as time_cuda does
    return float(start.elapsed_time(end) * 1e3)
