"""Seed derivation, the heavy-tailed trial, and timing statistics."""

from __future__ import annotations

import torch

from evaluator.checks.inputs import derive_seed, heavy_tailed
from evaluator.timing.loop import time_cpu
from evaluator.timing.stats import TimingPlan, TimingStats, incomparable, summarize


def test_only_timings_of_one_method_with_positive_medians_make_a_speedup() -> None:
    graph, events = TimingStats(5.0, 0.1, 50, "cuda_graph_l2_flush"), TimingStats(7.0, 0.2, 50, "cuda_events")
    assert incomparable(graph, TimingStats(9.0, 0.1, 50, "cuda_graph_l2_flush")) is None
    assert incomparable(graph, events) == "timed by cuda_graph_l2_flush, the reference by cuda_events"
    below = TimingStats(-0.02, 0.3, 50, "cuda_graph_l2_flush")
    assert "candidate's median (-0.02 us) is below" in str(incomparable(below, graph))
    assert "reference's median" in str(incomparable(graph, below))
    assert incomparable(TimingStats(float("nan"), 0.0, 0, "cuda_events"), events) is not None


def test_derived_seeds_differ_and_are_stable() -> None:
    seeds = {derive_seed(7, "trial", "small", i) for i in range(10)}
    assert len(seeds) == 10
    assert derive_seed(7, "model") == derive_seed(7, "model")
    assert derive_seed(7, "model") != derive_seed(8, "model")


def test_heavy_tail_scales_floats_only_and_spreads_magnitudes() -> None:
    x = torch.randn(10_000)
    targets = torch.randint(0, 5, (10,))
    scaled, same = heavy_tailed([x, targets], seed=3)
    assert torch.equal(same, targets)
    assert scaled.abs().max() > 50 * x.abs().max() / 10
    assert (scaled.abs() < x.abs()).any(), "some values shrink, too"
    half = heavy_tailed([torch.randn(1000, dtype=torch.float16)], seed=3)[0]
    assert torch.isfinite(half).all()


def test_summarize_median_and_iqr() -> None:
    stats = summarize([1.0, 2.0, 3.0, 4.0, 100.0], "test")
    assert stats.median_us == 3.0
    assert stats.iqr_us == 2.0
    assert stats.samples == 5


def test_time_cpu_stages_each_input_set_into_the_same_buffers() -> None:
    seen: list[tuple[float, int]] = []
    plan = TimingPlan(warmup_ms=0.0, budget_ms=0.0, min_samples=6, max_samples=6, warmup_calls=0)
    sets = [[torch.full((4,), float(k))] for k in range(3)]
    stats = time_cpu(lambda inputs: seen.append((float(inputs[0][0]), inputs[0].data_ptr())), sets, plan)
    assert stats.samples == 6
    assert [value for value, _ in seen] == [0.0, 1.0, 2.0, 0.0, 1.0, 2.0], "the values move every sample"
    assert len({ptr for _, ptr in seen}) == 1, "the address stays put, so a pointer cache goes stale"
    assert all(ptr != s[0].data_ptr() for _, ptr in seen for s in sets), "the originals are never handed out"


def test_median_stability_rule() -> None:
    from evaluator.timing.stats import median_is_stable

    assert not median_is_stable([1.0] * 5, 0.005), "too few samples to judge"
    assert median_is_stable([10.0, 10.1, 9.9] * 10, 0.005)
    drifting = [float(i) for i in range(1, 41)]  # a clock still ramping up: the median keeps moving
    assert not median_is_stable(drifting, 0.005)


def test_sampling_goes_past_the_budget_until_stable_but_not_forever() -> None:
    from evaluator.timing.loop import time_cpu
    from evaluator.timing.stats import TimingPlan

    plan = TimingPlan(warmup_ms=0.0, budget_ms=1.0, min_samples=3, max_samples=100_000, max_overrun=20.0)
    stats = time_cpu(lambda inputs: sum(range(200)), [[0]], plan)
    assert stats.samples >= 10, "past the budget, sampling continues until the median is stable"
    assert stats.samples < 100_000, "the hard limit (budget x max_overrun) ends it"
