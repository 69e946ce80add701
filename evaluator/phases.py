"""Where one evaluation's time went, phase by phase, so a slow harness can be seen and not guessed.

The phases follow one another: preparing the reference (the first candidate of an evaluator
pays for it), copying the inputs, starting the child (interpreter, imports, CUDA, the
candidate's load), then each stage the child announces (``correctness``, ``timing``), the
Nsight Compute pass, and what is left (metrics, clean-up). The evaluator's own comparison of the
child's outputs runs while the child goes on, so it is reported beside the phases, not in them.
"""

from __future__ import annotations

import time

OVERLAPPING = "comparison"
# Phases shorter than a millisecond are left out: a cached reference is not a phase worth showing.
# The comparison stays whenever there was one, however quick, so a reader sees it was made.
SHORTEST_S = 0.001


class PhaseClock:
    """Seconds per phase of one evaluation; ``enter`` closes the phase in progress."""

    def __init__(self) -> None:
        self._phase = ""
        self._since = time.monotonic()
        self._seconds: dict[str, float] = {}

    def enter(self, phase: str) -> None:
        now = time.monotonic()
        if self._phase:
            self._add(self._phase, now - self._since)
        self._phase, self._since = phase, now

    def overlapping(self, seconds: float) -> None:
        """Time the evaluator spent comparing outputs while the child ran on."""
        self._add(OVERLAPPING, seconds)

    def finish(self) -> dict[str, float]:
        self.enter("")
        return {
            name: round(s, 3)
            for name, s in self._seconds.items()
            if s >= SHORTEST_S or (name == OVERLAPPING and s > 0)
        }

    def _add(self, phase: str, seconds: float) -> None:
        self._seconds[phase] = self._seconds.get(phase, 0.0) + seconds


def describe(phases: dict[str, float]) -> str:
    """``start 4.1 s · correctness 17.1 s · timing 12.7 s (comparison 3.0 s alongside)``."""
    steps = " · ".join(f"{name} {s:.1f} s" for name, s in phases.items() if name != OVERLAPPING)
    if OVERLAPPING in phases:
        steps += f" ({OVERLAPPING} {phases[OVERLAPPING]:.1f} s alongside)"
    return steps
