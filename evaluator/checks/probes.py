"""Calls on inputs a candidate has never seen, made after it was timed.

Timed samples rotate through input sets the candidate already met in its correctness trials,
so a candidate that keeps its results by input content (a few sampled values, say) answers
every timed call from memory: right, and far too fast. After each shape is timed, the
evaluator hands the child input sets of the reference's that the candidate has never had a way
to read (they are copied into its directory only when it asks, once its timed calls are over).

Each probe is compared like with like: it is one sample of a short timing loop whose other
samples rotate through the seen input sets, staged into the same buffers and timed the same
way, so the probe meets its inputs under the caches, page tables and allocator state that its
neighbours do (``evaluator.timing.loop.time_probe``). The loop starts with a few untimed calls, which
let the allocator settle again after the delivery. A probe far slower than the median of its own
loop is a miss in a cache that the seen inputs hit; a candidate is rejected only when every one
of its ``PROBES_PER_SHAPE`` probes is that slow, so a call that the OS interrupted is measured
again, twice, on new inputs before anything is rejected. On the CPU a probe is slow only when it
is so in the CPU time it used as well as by the wall clock: three single calls in a row can each
lose a 4 ms scheduler tick to another process on a busy machine, and that is wall-clock time
only (measured under two CPU burners on two cores: an honest addmm's probe at 5.16 ms against
its loop's 1.02 ms by the wall clock, and 1.18 ms against 1.03 ms in CPU time). Even then the
verdict waits for a fresh process (new seeds, new reference, new probes) to see the same: a
busy machine can slow three single calls in a row, a cache by content misses every time
(``Evaluator.evaluate``).
The median, not a maximum, is the yardstick: a cheat cannot raise it without slowing most of
its own calls.

Where the loop's seen-input calls themselves ran far slower than the shape's timed median
(the machine got busier, or the candidate slowed down once its timing was over), the timing
cannot be trusted as it stands: ``drift_reason`` names it, and the result is re-verified in a
fresh process instead of being reported or rejected (``evaluator.checks.plausibility``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROBES_PER_SHAPE = 3
SLOWER_FACTOR = 3.0
SLOWER_MARGIN_US = 20.0  # a single call pays the launch that graph replays and medians hide
SETTLE_CALLS = 2  # untimed calls on seen inputs after a delivery, before the loop's samples
LOCAL_SAMPLES = 5  # seen-input samples in a probe's loop; the probe takes one position among them
FIRST_PROBE_POSITION = 2  # the probe follows at least this many of them


@dataclass(frozen=True)
class ProbeCall:
    """One timed call on new inputs, and the median of the seen-input samples timed around it."""

    call_us: float
    local_median_us: float
    method: str  # the timing method of both figures (a CPU clock, or CUDA events)
    # On the CPU, the same two figures in CPU time used (every thread): None on CUDA.
    call_cpu_us: float | None = None
    local_cpu_median_us: float | None = None

    def slower(self) -> float:
        return self.call_us / self.local_median_us if self.local_median_us > 0 else float("inf")

    def is_slow(self) -> bool:
        """Far slower than its neighbours: a miss where the seen inputs hit. On the CPU it must
        be so in the CPU time it used too: a call that waited while another process had the core
        (a scheduler tick is 4 ms) is slow by the wall clock only."""
        wall = _far_slower(self.call_us, self.local_median_us)
        if self.call_cpu_us is None or self.local_cpu_median_us is None:
            return wall
        return wall and _far_slower(self.call_cpu_us, self.local_cpu_median_us)


def _far_slower(call_us: float, median_us: float) -> bool:
    return call_us > SLOWER_FACTOR * median_us and call_us - median_us > SLOWER_MARGIN_US


def probe_input_path(probe_dir: Path, shape: str, index: int) -> Path:
    return probe_dir / f"inputs_{shape}_{index}.pt"


def probe_output_name(shape: str, index: int) -> str:
    return f"probe_{shape}_{index}.pt"


def reuse_reason(shape: str, probes: Sequence[ProbeCall]) -> str | None:
    """Why the candidate is rejected, when every probe was far slower than its own loop's median."""
    if len(probes) < PROBES_PER_SHAPE or not all(p.is_slow() for p in probes):
        return None
    mildest = min(probes, key=ProbeCall.slower)
    return (
        f"shape {shape}: on inputs it had never seen, each of {len(probes)} calls was at least"
        f" {mildest.slower():.1f}x slower than the calls on inputs it had seen, timed around it"
        f" ({mildest.call_us:.1f} µs against {mildest.local_median_us:.1f} µs):"
        " it reuses results across calls instead of computing them"
    )


def drift_reason(shape: str, timed_median_us: float, probes: Sequence[ProbeCall]) -> str | None:
    """Why a shape's timed median does not hold, when every probe loop's seen-input calls ran far
    slower than it; None when one of them agrees with it (or no probes were made)."""
    if not probes or timed_median_us <= 0:
        return None
    slowed = [
        p.local_median_us
        for p in probes
        if p.local_median_us > SLOWER_FACTOR * timed_median_us
        and p.local_median_us - timed_median_us > SLOWER_MARGIN_US
    ]
    if len(slowed) < len(probes):
        return None
    return (
        f"shape {shape}: after its timing, calls on the same inputs ran at least"
        f" {min(slowed) / timed_median_us:.1f}x slower than its timed median of {timed_median_us:.1f} µs"
    )
