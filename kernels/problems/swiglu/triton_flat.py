"""Fused SwiGLU, ``y = silu(gate) * up``, in Triton over the flattened tensors.

gate, up and y have the same shape and are contiguous, so the kernel treats them as one
long vector: each program handles ``BLOCK`` consecutive elements, reading ``BLOCK``
elements of gate and of up and writing ``BLOCK`` elements of y. That is the minimum
traffic, 3 * tokens * ffn elements, where the unfused reference makes 8 passes through
memory with two full-size temporaries.

The math is in fp32 whatever the input dtype, and rounds once to the output dtype. The
sigmoid is evaluated with ``t = exp(-|g|)``: ``sigmoid(g)`` is ``1 / (1 + t)`` for
g >= 0 and ``t / (1 + t)`` for g < 0. ``t`` is in (0, 1], so nothing overflows and
nothing divides by infinity, for any input magnitude.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK": [1024, 512, 2048, 4096, 8192],  # elements per program: more per program, fewer programs
    "num_warps": [4, 1, 2, 8],  # BLOCK / (32 * num_warps) elements per thread
}


@triton.jit
def swiglu_flat_kernel(
    y_ptr,
    gate_ptr,
    up_ptr,
    n_elements,
    BLOCK: tl.constexpr,  # elements per program; tl.arange needs a compile-time power of two
):
    # int64 offsets: 16384 x 11008 elements is past what int32 byte offsets can address safely.
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    # Read BLOCK elements of gate and BLOCK elements of up.
    g = tl.load(gate_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    u = tl.load(up_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    t = tl.exp(-tl.abs(g))
    sig = tl.where(g >= 0, 1.0, t) / (1.0 + t)
    out = g * sig * u
    # Write BLOCK elements of y, rounded once to the output dtype.
    tl.store(y_ptr + offs, out.to(y_ptr.dtype.element_ty), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, gate: torch.Tensor, up: torch.Tensor) -> torch.Tensor:
        gate, up = gate.contiguous(), up.contiguous()
        y = torch.empty_like(gate)
        n_elements = gate.numel()
        block = CONFIG["BLOCK"]  # noqa: F821 - injected by the evaluator
        swiglu_flat_kernel[(triton.cdiv(n_elements, block),)](
            y,
            gate,
            up,
            n_elements,
            BLOCK=block,
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return y
