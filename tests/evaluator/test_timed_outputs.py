"""Which timed outputs go back for checking: one sampled per input set, plus every forced one."""

from __future__ import annotations

import random

import torch

from evaluator.child.call_guards import TimedOutputSampler
from evaluator.timing.methods import time_call
from evaluator.timing.stats import TimingPlan


def test_one_output_per_input_set_and_every_forced_one() -> None:
    sampler = TimedOutputSampler(random.Random(4), input_sets=3)
    for sample in range(30):
        sampler.offer(sample, f"out{sample}")
    sampler.check_too(2, "graph2")
    sampler.check_too(0, "graph0")
    kept = sampler.kept()
    sampled = [k for k in kept if k[0] >= 0]
    assert sorted(index for _, index, _ in sampled) == [0, 1, 2]
    assert all(sample % 3 == index and out == f"out{sample}" for sample, index, out in sampled)
    assert [k for k in kept if k[0] < 0] == [(-1, 2, "graph2"), (-2, 0, "graph0")]


def test_graph_mode_on_the_cpu_times_with_the_cpu_clock() -> None:
    x = torch.randn(64, 64)
    plan = TimingPlan(warmup_ms=0.0, budget_ms=1.0, min_samples=3, max_samples=5, method="cuda_graph")
    forced: list[int] = []
    figures = time_call("cpu", lambda inputs: inputs[0] * 2, [[x]], plan, None, lambda i, _: forced.append(i))
    assert [f.method for f in figures] == ["cpu_perf_counter"] and figures[0].samples >= 3
    assert forced == [], "no graph on the CPU, so nothing extra to check"
