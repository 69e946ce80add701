"""CUDA-graph timing for short kernels: it subtracts the flush and agrees with events on long kernels."""

from __future__ import annotations

import subprocess
import sys

import pytest
import torch

from evaluator.errors import EvaluatorError
from evaluator.timing.cuda_graph import METHOD, GraphCaptureError, time_cuda_graph
from evaluator.timing.loop import time_cuda
from evaluator.timing.stats import TimingPlan

PLAN = TimingPlan(warmup_ms=20.0, budget_ms=200.0, min_samples=10, max_samples=200)


def test_capture_errors_are_evaluator_errors() -> None:
    assert issubclass(GraphCaptureError, EvaluatorError)


@pytest.mark.gpu
def test_short_kernel_is_timed_per_call_without_the_flush() -> None:
    x = torch.randn(256, 1024, device="cuda")
    stats = time_cuda_graph(lambda inputs: torch.softmax(inputs[0], dim=-1), [[x]], PLAN)
    assert stats.method == METHOD
    assert stats.samples >= PLAN.min_samples
    # A 1 MiB softmax is a few microseconds; the 2xL2 flush alone is tens of microseconds.
    assert 0 < stats.median_us < 30
    assert stats.iqr_us < stats.median_us


@pytest.mark.gpu
def test_graph_and_event_timing_agree_on_a_long_kernel() -> None:
    x = torch.randn(4096, 8192, device="cuda")
    events = time_cuda(lambda inputs: torch.softmax(inputs[0], dim=-1), [[x]], PLAN)
    graph = time_cuda_graph(lambda inputs: torch.softmax(inputs[0], dim=-1), [[x]], PLAN, repetitions=8)
    # Graph mode drops the launch overhead (a few us of ~100 us) but pays the write-back of the
    # output's dirty L2 lines in the next flush (up to ~50 MB at HBM speed): close, not equal.
    assert 0.75 * events.median_us < graph.median_us < 1.35 * events.median_us


@pytest.mark.gpu
def test_triton_kernel_compiles_before_capture(triton_cache) -> None:
    triton = pytest.importorskip("triton")
    import triton.language as tl

    @triton.jit
    def add_one(x_ptr, y_ptr, n, BLOCK: tl.constexpr):
        offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
        mask = offsets < n
        tl.store(y_ptr + offsets, tl.load(x_ptr + offsets, mask=mask) + 1, mask=mask)

    x = torch.randn(1 << 16, device="cuda")
    y = torch.empty_like(x)

    def call(inputs):
        add_one[(triton.cdiv(inputs[0].numel(), 1024),)](inputs[0], y, inputs[0].numel(), BLOCK=1024)
        return y

    stats = time_cuda_graph(call, [[x], [x.clone()]], PLAN, flush_bytes=64 * 1024**2)
    assert 0 < stats.median_us < 30
    assert torch.allclose(y, x + 1)


HOST_SYNC_CAPTURE = """
import torch
from evaluator.timing.cuda_graph import GraphCaptureError, time_cuda_graph
from evaluator.timing.stats import TimingPlan
x = torch.randn(1024, device="cuda")
try:
    time_cuda_graph(lambda inputs: inputs[0].sum().item(), [[x]], TimingPlan(warmup_ms=5.0, budget_ms=20.0))
except GraphCaptureError as exc:
    print("GraphCaptureError:", exc)
"""


@pytest.mark.gpu
def test_a_host_sync_cannot_be_captured() -> None:
    # In its own process: a failed capture leaves CUDA's RNG unusable in the process that tried it.
    done = subprocess.run(
        [sys.executable, "-c", HOST_SYNC_CAPTURE], capture_output=True, text=True, timeout=120
    )
    assert "GraphCaptureError: the call cannot be captured" in done.stdout, done.stderr[-2000:]


@pytest.mark.gpu
def test_replayed_outputs_are_poisoned_then_checked() -> None:
    x = [torch.randn(256, 1024, device="cuda") for _ in range(3)]
    honest: dict[int, torch.Tensor] = {}
    time_cuda_graph(
        lambda inputs: torch.softmax(inputs[0], -1), [[t] for t in x], PLAN, on_output=honest.__setitem__
    )
    assert sorted(honest) == [0, 1, 2]
    assert all(torch.allclose(honest[i], torch.softmax(x[i], -1)) for i in honest)

    cached: list[torch.Tensor] = []

    def skips_work_when_captured(inputs: list[torch.Tensor]) -> torch.Tensor:
        if torch.cuda.is_current_stream_capturing():
            return cached[-1]
        cached.append(torch.softmax(inputs[0], -1))
        return cached[-1]

    seen: dict[int, torch.Tensor] = {}
    time_cuda_graph(skips_work_when_captured, [[t] for t in x], PLAN, on_output=seen.__setitem__)
    assert seen and all(torch.isnan(out).all() for out in seen.values()), "the poison stays: caught"


CAPTURE_CHEAT = """
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        if torch.cuda.is_current_stream_capturing():
            return self.last
        self.last = torch.softmax(x, dim=-1)
        return self.last
"""
HONEST = (
    "import torch\n\n\nclass ModelNew(torch.nn.Module):\n"
    "    def forward(self, x):\n        return torch.softmax(x, dim=-1)\n"
)


@pytest.mark.gpu
def test_graph_mode_evaluation_ranks_the_honest_and_catches_a_capture_cheat(tmp_path) -> None:
    from evaluator.evaluate import Evaluator
    from evaluator.limits import EvalLimits
    from evaluator.types import Status
    from kernels.candidate import make_candidate
    from kernels.problem import load_problem

    limits = EvalLimits(timing_method="cuda_graph", warmup_ms=5, timing_budget_ms=50, ncu=False)
    evaluator = Evaluator(load_problem("softmax"), "cuda:0", limits, 11, workroot=tmp_path)
    honest = evaluator.evaluate(make_candidate(HONEST))
    assert honest.ok and honest.speedup is not None, honest.reason
    cheat = evaluator.evaluate(make_candidate(CAPTURE_CHEAT))
    assert cheat.status is Status.WRONG_OUTPUT and "CUDA-graph replay" in cheat.reason, cheat.reason


HOST_SYNC = """
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        out = torch.softmax(x, dim=-1)
        torch.cuda.synchronize()  # legal, but no graph can capture it
        return out
"""


@pytest.mark.gpu
def test_auto_mode_times_short_shapes_by_graph_and_compares_a_fallback_with_events(tmp_path) -> None:
    from evaluator.evaluate import Evaluator
    from evaluator.limits import EvalLimits
    from evaluator.timing.cuda_graph import METHOD
    from kernels.candidate import make_candidate
    from kernels.problem import load_problem

    limits = EvalLimits(timing_method="auto", graph_below_us=1e9, warmup_ms=5, timing_budget_ms=50, ncu=False)
    evaluator = Evaluator(load_problem("softmax"), "cuda:0", limits, 13, workroot=tmp_path)
    honest = evaluator.evaluate(make_candidate(HONEST))
    assert honest.ok and honest.speedup is not None, honest.reason
    assert {s.timing_method for s in honest.shapes} == {METHOD}, "every shape is under the threshold"
    syncing = evaluator.evaluate(make_candidate(HOST_SYNC))
    assert syncing.ok and syncing.speedup is not None, syncing.reason
    assert {s.timing_method for s in syncing.shapes} == {"cuda_events_l2_flush"}
    assert "no speedup" not in syncing.reason
