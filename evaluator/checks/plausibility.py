"""Implausible speedups are re-verified, never just reported.

A speedup above the configured bound, or a shape that runs faster than the device's roofline
allows, sends the candidate back: a fresh process, fresh secret seeds (so a fresh reference),
and three times the timing samples. The result stands only if that run agrees.
"""

from __future__ import annotations

from dataclasses import replace

from evaluator.limits import EvalLimits
from evaluator.types import EvalResult

AGREEMENT = 0.5  # the fresh run must keep at least half the flagged speedup


def implausibility(result: EvalResult, bound: float) -> str | None:
    """Why a result needs re-verification, or None."""
    if not result.ok or result.interpreted:
        return None
    for shape in result.shapes:
        if shape.peak_fraction is not None and shape.peak_fraction > 1.0:
            return f"shape {shape.shape} ran at {shape.peak_fraction:.0%} of the device's roofline"
        if shape.speedup is not None and shape.speedup > bound:
            return f"shape {shape.shape} sped up {shape.speedup:.1f}x, above the plausible {bound:g}x"
    return None


def verification_limits(limits: EvalLimits) -> EvalLimits:
    """Three times the samples and timing budget; no further re-verification inside."""
    return limits.changed(
        timing_budget_ms=limits.timing_budget_ms * 3,
        min_samples=limits.min_samples * 3,
        max_samples=limits.max_samples * 3,
        reverify=False,
        ncu=False,  # the verdict needs timing; the flagged run already has its counters
    )


def settle(flagged: EvalResult, why: str, fresh: EvalResult) -> EvalResult:
    """Combine the flagged result with its re-verification."""
    if not fresh.ok:
        return replace(fresh, reason=f"failed re-verification ({why}): {fresh.reason}")
    first, again = flagged.speedup or 0.0, fresh.speedup or 0.0
    if again >= AGREEMENT * first:
        return replace(fresh, verification=f"flagged ({why}); confirmed in a fresh process: {again:.2f}x")
    note = f"flagged ({why}); a fresh process measured {again:.2f}x against {first:.2f}x: not confirmed"
    return replace(flagged, suspect=True, verification=note)
