"""Timed and probe outputs checked at positions drawn after the calls, instead of in full.

A candidate can be right in its trials and wrong while timed (skipping work that nobody
checks), so some timed outputs are compared with the reference too. Writing each of them to a
file in full costs what a trial does: on softmax's large GPU shapes, hundreds of megabytes per
output. Instead, once a shape's timed calls are over, the child asks the evaluator for positions,
which the evaluator draws then, and sends only the values there. Probe calls
(``evaluator.checks.probes``) are checked the same way: the child asks after each probe call.

The positions are unknown to the candidate until its outputs are final, so an output wrong at
a fraction ``f`` of its elements passes with probability ``(1 - f) ** SPOT_POSITIONS``: below
1e-28 at ``f`` = 0.1%, and skipping 0.1% of the work gains at most 0.1% of speed. An output no
larger than ``SPOT_POSITIONS`` is checked in full, as before.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch

from evaluator.checks.correctness import Comparison, compare_tensor, dtype_name, layout_mismatch
from kernels.problem import Tolerance

SPOT_POSITIONS = 1 << 16


def positions_path(check_dir: Path, shape: str) -> Path:
    return check_dir / f"positions_{shape}.pt"


def probe_positions_path(check_dir: Path, shape: str, index: int) -> Path:
    """For a probe's output (``evaluator.checks.probes``), drawn once that call is over."""
    return check_dir / f"probe_positions_{shape}_{index}.pt"


def draw_positions(expected: Sequence[torch.Tensor], generator: torch.Generator) -> list[torch.Tensor]:
    """Flat positions to check in each output: all of a small one, else a sorted uniform draw."""
    drawn = []
    for ref in expected:
        count = ref.numel()
        if count <= SPOT_POSITIONS:
            drawn.append(torch.arange(count))
        else:
            drawn.append(torch.randint(count, (SPOT_POSITIONS,), generator=generator).sort().values)
    return drawn


def gather_spots(outputs: Sequence[torch.Tensor], positions: Sequence[torch.Tensor]) -> list[list[Any]]:
    """In the child: each output's shape and its values at the positions, as ``[values, shape]``.

    An output without positions (one more than the reference has) or too small for them gives
    what it can; the evaluator turns its count or shape away before looking at the values.
    """
    spots = []
    for i, out in enumerate(outputs):
        flat = out.detach().reshape(-1)
        wanted = positions[i] if i < len(positions) else torch.empty(0, dtype=torch.long)
        wanted = wanted[wanted < flat.numel()].to(flat.device)
        spots.append([flat[wanted].cpu(), list(out.shape)])
    return spots


def compare_spots(
    expected: Sequence[torch.Tensor],
    spots: Any,
    positions: Sequence[torch.Tensor],
    tolerance_for: dict[str, Tolerance],
    scales: Sequence[float],
) -> Comparison:
    """In the evaluator: the child's ``gather_spots`` file against the reference at the same positions."""
    try:
        layouts = [(tuple(int(n) for n in shape), values) for values, shape in spots]
    except (TypeError, ValueError):
        return Comparison(False, "its checked values are not a list of [values, shape] pairs")
    if len(layouts) != len(expected):
        return Comparison(False, f"returned {len(layouts)} output(s), expected {len(expected)}")
    worst_abs, worst_rel = 0.0, 0.0
    for i, (ref, (shape, values), where, scale) in enumerate(
        zip(expected, layouts, positions, scales, strict=True)
    ):
        label = "output" if len(expected) == 1 else f"output {i}"
        if type(values) is not torch.Tensor:
            return Comparison(False, f"{label}'s checked values are not a tensor")
        mismatch = layout_mismatch((tuple(ref.shape), ref.dtype), (shape, values.dtype), label)
        if mismatch:
            return mismatch
        if where.numel() < ref.numel():
            label += f" at {where.numel()} positions drawn after the call"
        tolerance = tolerance_for[dtype_name(ref.dtype)]
        result = compare_tensor(ref.reshape(-1)[where], values.reshape(-1), tolerance, label, scale)
        if not result.ok:
            return result
        worst_abs = max(worst_abs, result.max_abs_err or 0.0)
        worst_rel = max(worst_rel, result.max_rel_err or 0.0)
    return Comparison(True, "matches the reference", worst_abs, worst_rel)
