"""Output checks, run in the evaluator's own process against reference outputs the candidate never saw.

An element passes when ``|out - ref| <= atol * scale + rtol * |ref|``, where ``scale`` is
``max(1, rms(ref))``: atol is absolute for unit-scale outputs and relative to the output's
magnitude for large ones (a matmul over heavy-tailed inputs), so honest reordering of a
reduction passes and a wrong answer does not. ``max_rel_err`` is the largest absolute error
divided by the reference's largest magnitude.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import torch

from kernels.problem import Tolerance


@dataclass(frozen=True)
class Comparison:
    ok: bool
    reason: str
    max_abs_err: float | None = None
    max_rel_err: float | None = None


def dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def compare_outputs(
    expected: Sequence[torch.Tensor], actual: Sequence[torch.Tensor], tolerance_for: dict[str, Tolerance]
) -> Comparison:
    """Compare every output; the first failure is the reason. Errors are the max over outputs."""
    if len(expected) != len(actual):
        return Comparison(False, f"returned {len(actual)} output(s), expected {len(expected)}")
    worst_abs, worst_rel = 0.0, 0.0
    for i, (ref, out) in enumerate(zip(expected, actual, strict=True)):
        label = "output" if len(expected) == 1 else f"output {i}"
        tol = tolerance_for[dtype_name(ref.dtype)]
        result = compare_tensor(ref, out, tol, label)
        if not result.ok:
            return result
        worst_abs = max(worst_abs, result.max_abs_err or 0.0)
        worst_rel = max(worst_rel, result.max_rel_err or 0.0)
    return Comparison(True, "matches the reference", worst_abs, worst_rel)


def layout_mismatch(
    ref: tuple[tuple[int, ...], torch.dtype], out: tuple[tuple[int, ...], torch.dtype], label: str
) -> Comparison | None:
    """A failed comparison when the (shape, dtype) pairs differ; None when they agree."""
    if tuple(out[0]) != tuple(ref[0]):
        return Comparison(False, f"{label} has shape {tuple(out[0])}, expected {tuple(ref[0])}")
    if out[1] != ref[1]:
        return Comparison(False, f"{label} has dtype {dtype_name(out[1])}, expected {dtype_name(ref[1])}")
    return None


def compare_tensor(
    ref: torch.Tensor, out: torch.Tensor, tol: Tolerance, label: str = "output", scale: float | None = None
) -> Comparison:
    """``scale``: the reference's (see ``reference_scale``) when ``ref`` is only a sample of it."""
    if type(out) is not torch.Tensor:
        return Comparison(False, f"{label} is {type(out).__name__}, not a plain tensor")
    if out.layout is not torch.strided or out.device.type != "cpu":  # as loaded: a file can hold any
        return Comparison(False, f"{label} is a {out.layout} tensor on {out.device.type}, not a dense one")
    mismatch = layout_mismatch((tuple(ref.shape), ref.dtype), (tuple(out.shape), out.dtype), label)
    if mismatch:
        return mismatch
    if not ref.is_floating_point() and not ref.is_complex():
        if torch.equal(ref, out):
            return Comparison(True, "exact", 0.0, 0.0)
        mismatches = int((ref != out).sum())
        return Comparison(False, f"{label}: {mismatches} of {ref.numel()} integer elements differ")
    if ref.numel() == 0:
        return Comparison(True, "empty", 0.0, 0.0)
    if ref.is_complex():  # real and imaginary parts, each compared as a float
        ref, out = torch.view_as_real(ref), torch.view_as_real(out)
    return compare_floats(ref.reshape(-1), out.reshape(-1), tol, label, scale)


# Elements compared at a time. A chunk's temporaries (1 MB each in float32) stay in the CPU's
# cache and are reused, where whole-tensor temporaries of an output of hundreds of millions of
# elements cost gigabytes of fresh pages each.
CHUNK = 1 << 18


@dataclass
class _Extent:
    """What the first pass learns over the positions where the reference is finite."""

    count: int = 0
    sum_squares: float = 0.0
    ref_min: float = math.inf
    ref_max: float = -math.inf
    out_min: float = math.inf
    out_max: float = -math.inf
    max_abs: float = 0.0


def _working(values: torch.Tensor) -> torch.Tensor:
    """float64 stays float64; every narrower float is widened to float32, which holds it exactly.

    The difference of two float32 values is exact when they are within a factor of two of each
    other (the only case near a tolerance), so float32 loses nothing a tolerance could see, and
    halves the bytes each pass reads against float64.
    """
    return values if values.dtype in (torch.float32, torch.float64) else values.float()


def _chunks(ref: torch.Tensor, out: torch.Tensor) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    for start in range(0, ref.numel(), CHUNK):
        yield _working(ref[start : start + CHUNK]), _working(out[start : start + CHUNK])


def _finite_part(ref_c: torch.Tensor, out_c: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """The positions where the reference is finite; the chunk itself when all of it is."""
    finite = torch.isfinite(ref_c)
    return (ref_c, out_c) if bool(finite.all()) else (ref_c[finite], out_c[finite])


def _bounds(values: torch.Tensor) -> tuple[float, float]:
    low, high = torch.aminmax(values)
    return float(low), float(high)


def _first_pass(ref: torch.Tensor, out: torch.Tensor, label: str) -> _Extent | Comparison:
    """One read of each chunk for the statistics; masks only in chunks that hold a non-finite value.

    ``aminmax`` propagates NaN and infinity, so finite bounds prove a chunk finite throughout.
    """
    extent = _Extent()
    for ref_c, out_c in _chunks(ref, out):
        ref_low, ref_high = _bounds(ref_c)
        out_low, out_high = _bounds(out_c)
        if not all(math.isfinite(v) for v in (ref_low, ref_high, out_low, out_high)):
            ref_c, out_c = _finite_part(ref_c, out_c)
            if ref_c.numel() == 0:
                continue
            bad = int((~torch.isfinite(out_c)).sum())
            if bad:
                return Comparison(False, f"{label}: {bad} non-finite value(s) where the reference is finite")
            (ref_low, ref_high), (out_low, out_high) = _bounds(ref_c), _bounds(out_c)
        extent.count += ref_c.numel()
        extent.sum_squares += float(torch.linalg.vector_norm(ref_c, dtype=torch.float64)) ** 2
        extent.ref_min, extent.ref_max = min(extent.ref_min, ref_low), max(extent.ref_max, ref_high)
        extent.out_min, extent.out_max = min(extent.out_min, out_low), max(extent.out_max, out_high)
        extent.max_abs = max(extent.max_abs, float(torch.sub(out_c, ref_c).abs_().max()))
    return extent


def reference_scale(ref: torch.Tensor) -> float:
    """``max(1, rms)`` of a reference output over its finite values: what scales ``atol``."""
    if not (ref.is_floating_point() or ref.is_complex()) or ref.numel() == 0:
        return 1.0
    flat = (torch.view_as_real(ref) if ref.is_complex() else ref).reshape(-1)
    count, sum_squares = 0, 0.0
    for ref_c, _ in _chunks(flat, flat):
        finite, _ = _finite_part(ref_c, ref_c)
        count += finite.numel()
        sum_squares += float(torch.linalg.vector_norm(finite, dtype=torch.float64)) ** 2
    return max(1.0, math.sqrt(sum_squares / count)) if count else 1.0


def compare_floats(
    ref: torch.Tensor, out: torch.Tensor, tol: Tolerance, label: str, scale: float | None = None
) -> Comparison:
    """Compare two flat floating tensors a chunk at a time, over the positions of a finite reference.

    ``scale`` comes from the whole reference when ``ref`` is a sample of it; else from ``ref``.
    """
    extent = _first_pass(ref, out, label)
    if isinstance(extent, Comparison):
        return extent
    if extent.count > 1 and extent.ref_max > extent.ref_min and extent.out_max == extent.out_min:
        return Comparison(False, f"{label} is constant ({extent.out_min:.4g}) where the reference varies")
    max_abs = extent.max_abs
    ref_abs_max = max(-extent.ref_min, extent.ref_max, 0.0)
    max_rel = max_abs / ref_abs_max if ref_abs_max > 0 else max_abs
    if scale is None:
        scale = max(1.0, math.sqrt(extent.sum_squares / extent.count)) if extent.count else 1.0
    if max_abs <= tol.atol * scale:  # within atol everywhere: the rtol term can only add slack
        return Comparison(True, "matches the reference", max_abs, max_rel)
    over, worst_excess, worst = 0, -math.inf, (0.0, 0.0)
    for ref_c, out_c in _chunks(ref, out):
        ref_f, out_f = _finite_part(ref_c, out_c)
        excess = (out_f - ref_f).abs() - (tol.atol * scale + tol.rtol * ref_f.abs())
        over += int((excess > 0).sum())
        if excess.numel() and float(excess.max()) > worst_excess:
            idx = int(torch.argmax(excess))
            worst_excess, worst = float(excess[idx]), (float(out_f[idx]), float(ref_f[idx]))
    if over:
        return Comparison(
            False,
            f"{label}: {over} of {ref.numel()} elements outside atol={tol.atol:g} rtol={tol.rtol:g}"
            f" (worst: got {worst[0]:.6g}, expected {worst[1]:.6g})",
            max_abs,
            max_rel,
        )
    return Comparison(True, "matches the reference", max_abs, max_rel)
