"""Trial inputs: seeds a candidate cannot guess, and a heavy-tailed trial for numerics.

Seeds derive from the run's secret seed through SHA-256, so knowing one derived seed (the
model-construction seed is visible inside the candidate's process) reveals nothing of another.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any

# Exponent range of the elementwise magnitude multiplier in the heavy-tailed trial, by dtype:
# fp32 inputs span 0.1x..100x (softmax without max-subtraction overflows); half types stay finite.
HEAVY_TAIL_EXPONENTS = {
    "float32": (-1.0, 2.0),
    "float64": (-1.0, 2.0),
    "float16": (-1.0, 1.0),
    "bfloat16": (-1.0, 1.0),
}


def derive_seed(secret: int, *labels: object) -> int:
    digest = hashlib.sha256(repr((secret, *labels)).encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


def heavy_tailed(values: Sequence[Any], seed: int) -> list[Any]:
    """Scale floating-point tensors elementwise by 10**U(lo, hi); other inputs pass through."""
    import torch

    gen = torch.Generator().manual_seed(seed)
    out = []
    for value in values:
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            lo, hi = HEAVY_TAIL_EXPONENTS.get(str(value.dtype).removeprefix("torch."), (-1.0, 1.0))
            exponent = torch.empty(value.shape, dtype=torch.float32).uniform_(lo, hi, generator=gen)
            value = (value.float() * torch.pow(10.0, exponent)).to(value.dtype)
        out.append(value)
    return out
