"""Output checks, run in the evaluator's own process against reference outputs the candidate never saw.

An element passes when ``|out - ref| <= atol * scale + rtol * |ref|``, where ``scale`` is
``max(1, rms(ref))``: atol is absolute for unit-scale outputs and relative to the output's
magnitude for large ones (a matmul over heavy-tailed inputs), so honest reordering of a
reduction passes and a wrong answer does not. ``max_rel_err`` is the largest absolute error
divided by the reference's largest magnitude.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def compare_tensor(ref: torch.Tensor, out: torch.Tensor, tol: Tolerance, label: str = "output") -> Comparison:
    if type(out) is not torch.Tensor:
        return Comparison(False, f"{label} is {type(out).__name__}, not a plain tensor")
    if out.shape != ref.shape:
        return Comparison(False, f"{label} has shape {tuple(out.shape)}, expected {tuple(ref.shape)}")
    if out.dtype != ref.dtype:
        return Comparison(
            False, f"{label} has dtype {dtype_name(out.dtype)}, expected {dtype_name(ref.dtype)}"
        )
    if not ref.is_floating_point() and not ref.is_complex():
        if torch.equal(ref, out):
            return Comparison(True, "exact", 0.0, 0.0)
        mismatches = int((ref != out).sum())
        return Comparison(False, f"{label}: {mismatches} of {ref.numel()} integer elements differ")
    ref64, out64 = ref.double(), out.double()
    finite = torch.isfinite(ref64)
    bad_finite = finite & ~torch.isfinite(out64)
    if bool(bad_finite.any()):
        return Comparison(
            False, f"{label}: {int(bad_finite.sum())} non-finite value(s) where the reference is finite"
        )
    if ref.numel() == 0:
        return Comparison(True, "empty", 0.0, 0.0)
    ref_f, out_f = ref64[finite], out64[finite]
    if ref_f.numel() > 1 and bool(ref_f.max() > ref_f.min()) and bool(out_f.max() == out_f.min()):
        return Comparison(False, f"{label} is constant ({float(out_f[0]):.4g}) where the reference varies")
    diff = (out_f - ref_f).abs()
    max_abs = float(diff.max()) if diff.numel() else 0.0
    ref_max = float(ref_f.abs().max()) if ref_f.numel() else 0.0
    max_rel = max_abs / ref_max if ref_max > 0 else max_abs
    scale = max(1.0, float(ref_f.pow(2).mean().sqrt())) if ref_f.numel() else 1.0
    allowed = tol.atol * scale + tol.rtol * ref_f.abs()
    over = diff > allowed
    if bool(over.any()):
        idx = int(torch.argmax((diff - allowed).flatten()))
        return Comparison(
            False,
            f"{label}: {int(over.sum())} of {ref.numel()} elements outside"
            f" atol={tol.atol:g} rtol={tol.rtol:g}"
            f" (worst: got {float(out_f.flatten()[idx]):.6g}, expected {float(ref_f.flatten()[idx]):.6g})",
            max_abs,
            max_rel,
        )
    return Comparison(True, "matches the reference", max_abs, max_rel)
