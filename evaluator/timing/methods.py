"""Which timing a shape gets on a device: the CPU clock, CUDA events, and CUDA-graph replays
where the plan asks for them. ``time_call`` is where timing a call starts.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from evaluator.timing.cuda_graph import METHOD as GRAPH_METHOD
from evaluator.timing.cuda_graph import GraphCaptureError, time_cuda_graph
from evaluator.timing.loop import time_cpu, time_cuda
from evaluator.timing.stats import Call, OnSample, TimingPlan, TimingStats


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
    try:
        return [time_cuda_graph(call, input_sets, plan, on_output=on_graph_output), events]
    except GraphCaptureError:
        return [events]


def shape_method(reference: TimingStats) -> str:
    """The plan method a candidate uses on a shape, so it is timed as the reference was."""
    return "cuda_graph" if reference.method == GRAPH_METHOD else "events"
