"""The per-shape figures of a passing candidate, from what its child reported and the reference."""

from __future__ import annotations

from evaluator.observer import CandidateObserver
from evaluator.profiling.roofline import peak_for, throughput
from evaluator.reference import ReferenceData
from evaluator.timing.stats import incomparable, same_method
from evaluator.types import ShapeMetrics


def shape_metrics(
    observed: CandidateObserver, reference: ReferenceData, interpreted: bool
) -> tuple[ShapeMetrics, ...]:
    """Each shape's figures: the candidate's timing against the reference's by the same method,
    its worst errors, its memory and, where the problem declares them, its throughput."""
    device = observed.device or reference.device
    peak = peak_for(device.name) if device.kind == "cuda" else None
    metrics = []
    for shape in reference.shapes:
        timing = observed.timings[shape.name]
        ref_timing = same_method(timing, reference.figures(shape.name))
        comparisons = observed.comparisons[shape.name]
        speed = None if interpreted else throughput(timing.median_us, shape.flops, shape.bytes_moved, peak)
        compiled = (
            same_method(timing, reference.compiled[shape.name]) if shape.name in reference.compiled else None
        )
        metrics.append(
            ShapeMetrics(
                shape=shape.name,
                median_us=timing.median_us,
                iqr_us=timing.iqr_us,
                samples=timing.samples,
                max_abs_err=max(c.max_abs_err or 0.0 for c in comparisons),
                max_rel_err=max(c.max_rel_err or 0.0 for c in comparisons),
                peak_mem_bytes=observed.peaks.get(shape.name),
                ref_median_us=ref_timing.median_us,
                ref_iqr_us=ref_timing.iqr_us,
                speedup=(
                    None
                    if interpreted or incomparable(timing, ref_timing)
                    else ref_timing.median_us / timing.median_us
                ),
                achieved_gbps=speed.gbps if speed else None,
                achieved_tflops=speed.tflops if speed else None,
                peak_fraction=speed.peak_fraction if speed else None,
                interpreted=interpreted,
                timing_method=timing.method,
                cpu_cores=timing.cores,
                compiled_median_us=compiled.median_us if compiled else None,
                speedup_vs_compiled=(
                    None
                    if compiled is None or interpreted or incomparable(timing, compiled)
                    else compiled.median_us / timing.median_us
                ),
            )
        )
    return tuple(metrics)


def speedup_note(observed: CandidateObserver, reference: ReferenceData) -> str:
    """The shapes that get no speedup although they were timed, and why (see ``incomparable``)."""
    reasons = []
    for name, timing in observed.timings.items():
        why = (
            incomparable(timing, same_method(timing, reference.figures(name)))
            if name in reference.timings
            else None
        )
        if why:
            reasons.append(f"{name}: {why}")
    return f"; no speedup for {'; '.join(reasons)}" if reasons else ""
