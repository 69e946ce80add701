"""The verdict on calls made on never-seen inputs after timing (``evaluator.checks.probes``)."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
import torch

from evaluator.checks.probes import LOCAL_SAMPLES, PROBES_PER_SHAPE, ProbeCall, drift_reason, reuse_reason
from evaluator.timing.loop import time_probe
from evaluator.timing.stats import CPU_METHOD
from evaluator.wire.deliveries import deliver


def calls(*pairs: tuple[float, float]) -> list[ProbeCall]:
    return [ProbeCall(call, local, CPU_METHOD) for call, local in pairs]


def test_every_probe_far_slower_than_its_own_loop_is_reuse() -> None:
    reason = reuse_reason("wide", calls((96.0, 8.0), (120.0, 8.0), (100.0, 9.0)))
    assert reason is not None and "each of 3 calls was at least 11.1x slower" in reason


def test_one_probe_like_its_neighbours_clears_the_candidate() -> None:
    """An OS interruption makes one call slow; a cache makes every call on new inputs slow."""
    assert reuse_reason("wide", calls((96.0, 8.0), (120.0, 8.0), (9.0, 8.0))) is None


def test_on_the_cpu_a_probe_must_also_have_used_the_cpu_time_of_a_miss() -> None:
    """Preempted for a scheduler tick, a call is slow by the wall clock only; a cache that
    misses spends the CPU time of the computation it skipped elsewhere."""
    preempted = [ProbeCall(5100.0, 950.0, CPU_METHOD, 960.0, 955.0) for _ in range(PROBES_PER_SHAPE)]
    assert all(not p.is_slow() for p in preempted)
    assert reuse_reason("small", preempted) is None
    missed = [ProbeCall(5100.0, 45.0, CPU_METHOD, 5050.0, 40.0) for _ in range(PROBES_PER_SHAPE)]
    assert reuse_reason("small", missed) is not None


def test_a_slow_loop_is_the_yardstick_not_the_timed_median() -> None:
    """A machine that got busier after the timing slows the probe and its neighbours alike."""
    assert reuse_reason("wide", calls((96.0, 80.0), (120.0, 90.0), (100.0, 70.0))) is None


def test_a_few_microseconds_more_is_not_reuse_however_short_the_kernel() -> None:
    assert reuse_reason("small", calls((15.0, 2.0), (16.0, 2.0), (15.0, 2.0))) is None  # within the margin


def test_no_verdict_before_every_probe_is_in() -> None:
    assert reuse_reason("wide", calls(*[(96.0, 8.0)] * (PROBES_PER_SHAPE - 1))) is None


def test_drift_needs_every_loop_far_slower_than_the_timed_median() -> None:
    assert drift_reason("wide", 8.0, calls((30.0, 30.0), (31.0, 29.0), (33.0, 40.0))) is not None
    assert drift_reason("wide", 8.0, calls((30.0, 30.0), (31.0, 29.0), (9.0, 9.0))) is None
    assert drift_reason("wide", 8.0, []) is None


def test_the_probe_is_timed_amid_calls_on_seen_inputs_in_the_same_buffers() -> None:
    seen = [[torch.full((4,), float(i))] for i in range(3)]
    probe = [torch.full((4,), 7.0)]
    met: list[tuple[float, int]] = []

    def call(inputs: list[torch.Tensor]) -> torch.Tensor:
        met.append((float(inputs[0][0]), inputs[0].data_ptr()))
        return inputs[0] * 2

    for position in range(LOCAL_SAMPLES + 1):
        met.clear()
        figures, output = time_probe("cpu", call, seen, probe, position)
        assert torch.equal(output, probe[0] * 2) and figures.method == CPU_METHOD
        timed = met[-(LOCAL_SAMPLES + 1) :]
        assert timed[position][0] == 7.0 and sum(v == 7.0 for v, _ in met) == 1
        assert len({address for _, address in met}) == 1  # every call met the same buffer
        assert figures.local_median_us > 0


def test_the_probe_position_must_be_inside_the_loop() -> None:
    with pytest.raises(ValueError, match="outside a loop"):
        time_probe("cpu", lambda inputs: inputs[0], [[torch.ones(1)]], [torch.ones(1)], LOCAL_SAMPLES + 1)


def test_a_content_cache_is_slow_on_the_probe_and_fast_around_it() -> None:
    """A call that computes only what it has not seen is far slower on the probe than its loop."""
    seen = [[torch.randn(256, 256)] for _ in range(3)]
    cache: dict[float, torch.Tensor] = {}

    def cached(inputs: list[torch.Tensor]) -> torch.Tensor:
        key = float(inputs[0][0, 0])
        if key not in cache:
            x = inputs[0]
            for _ in range(20):
                x = torch.softmax(x @ inputs[0], dim=-1)
            cache[key] = x
        return cache[key]

    for s in seen:
        cached(s)
    figures, _ = time_probe("cpu", cached, seen, [torch.randn(256, 256)], random.randint(2, LOCAL_SAMPLES))
    assert figures.is_slow(), figures


def test_delivery_leaves_no_partial_file(tmp_path: Path) -> None:
    source = tmp_path / "source.pt"
    source.write_bytes(b"x" * 4096)
    target = tmp_path / "probe" / "inputs_wide_0.pt"
    target.parent.mkdir()
    deliver(source, target)
    assert target.read_bytes() == source.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["inputs_wide_0.pt"]
