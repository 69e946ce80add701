"""The verdict on calls made on never-seen inputs after timing (``evaluator.probes``)."""

from __future__ import annotations

from pathlib import Path

from evaluator.deliveries import deliver
from evaluator.probes import PROBES_PER_SHAPE, reuse_reason


def test_every_probe_far_slower_than_the_timed_median_is_reuse() -> None:
    reason = reuse_reason("wide", 8.0, [96.0, 120.0])
    assert reason is not None and "12.0x its timed median of 8.0 µs" in reason


def test_one_fast_probe_clears_the_candidate() -> None:
    """An OS interruption makes one call slow; a cache makes every call on new inputs slow."""
    assert reuse_reason("wide", 8.0, [96.0, 9.0]) is None


def test_a_few_microseconds_more_is_not_reuse_however_short_the_kernel() -> None:
    assert reuse_reason("small", 2.0, [15.0, 16.0]) is None  # 8x, but within the launch margin


def test_no_verdict_before_every_probe_is_in_or_without_a_usable_median() -> None:
    assert reuse_reason("wide", 8.0, [96.0] * (PROBES_PER_SHAPE - 1)) is None
    assert reuse_reason("wide", 0.0, [96.0, 120.0]) is None


def test_delivery_leaves_no_partial_file(tmp_path: Path) -> None:
    source = tmp_path / "source.pt"
    source.write_bytes(b"x" * 4096)
    target = tmp_path / "probe" / "inputs_wide_0.pt"
    target.parent.mkdir()
    deliver(source, target)
    assert target.read_bytes() == source.read_bytes()
    assert [p.name for p in target.parent.iterdir()] == ["inputs_wide_0.pt"]
