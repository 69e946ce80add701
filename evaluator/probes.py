"""Calls on inputs a candidate has never seen, made after it was timed.

Timed samples rotate through input sets the candidate already met in its correctness trials,
so a candidate that keeps its results by input content (a few sampled values, say) answers
every timed call from memory: right, and far too fast. After each shape is timed, the
evaluator hands the child input sets of the reference's that the candidate has never had a way
to read (they are copied into its directory only when it asks, once its timed calls are over)
and times one call on each. A wrong answer is ``wrong_output``; every call on them much slower
than the timed median is ``rejected``: it reused results. Two probes must both be slow, so one
call that the OS interrupted cannot turn an honest candidate away.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

PROBES_PER_SHAPE = 2
SLOWER_FACTOR = 3.0
SLOWER_MARGIN_US = 20.0  # a single call pays the launch that graph replays and medians hide


def probe_input_path(probe_dir: Path, shape: str, index: int) -> Path:
    return probe_dir / f"inputs_{shape}_{index}.pt"


def probe_output_name(shape: str, index: int) -> str:
    return f"probe_{shape}_{index}.pt"


def reuse_reason(shape: str, timed_median_us: float, probe_calls_us: Sequence[float]) -> str | None:
    """Why the candidate is rejected, when every probe call was far slower than the timed median."""
    if timed_median_us <= 0 or len(probe_calls_us) < PROBES_PER_SHAPE:
        return None
    if not all(
        call > SLOWER_FACTOR * timed_median_us and call - timed_median_us > SLOWER_MARGIN_US
        for call in probe_calls_us
    ):
        return None
    fastest = min(probe_calls_us)
    return (
        f"shape {shape}: on inputs it had never seen, a call took {fastest:.1f} µs or more,"
        f" {fastest / timed_median_us:.1f}x its timed median of {timed_median_us:.1f} µs:"
        " it reuses results across calls instead of computing them"
    )
