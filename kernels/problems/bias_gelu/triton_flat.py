"""Fused bias + GELU (tanh approximation) in Triton over the flattened tensor.

Each program handles ``BLOCK`` consecutive elements of x viewed as one long vector; the
bias element for offset ``i`` is ``bias[i % cols]``, which stays in L1/L2 because it is
tiny. x is read once and y written once, 2 * rows * cols * 4 bytes in fp32, where the
unfused reference makes nine passes through full-size temporaries.

GELU is evaluated as ``y * (1 + tanh(z)) / 2`` with ``t = exp(-2|z|)``:
``1 + tanh(z)`` is ``2 / (1 + t)`` for z >= 0 and ``2t / (1 + t)`` for z < 0. That never
overflows and never cancels, for any input magnitude.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK": [512, 1024, 2048, 4096, 8192],  # elements per program: more per program, fewer programs
    "num_warps": [1, 2, 4, 8],  # BLOCK / (32 * num_warps) elements per thread
}


@triton.jit
def bias_gelu_flat_kernel(
    y_ptr,
    x_ptr,
    bias_ptr,
    n_elements,
    n_cols,
    BLOCK: tl.constexpr,  # elements per program; tl.arange needs a compile-time power of two
):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    # Read BLOCK * 4 bytes of x; the bias gather reads at most BLOCK * 4 bytes, mostly from cache.
    x = tl.load(x_ptr + offs, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(bias_ptr + offs % n_cols, mask=mask, other=0.0).to(tl.float32)
    y = x + b
    z = 0.7978845608028654 * (y + 0.044715 * y * y * y)  # sqrt(2/pi) * (y + 0.044715 y^3)
    t = tl.exp(-2.0 * tl.abs(z))
    out = y * tl.where(z >= 0, 1.0, t) / (1.0 + t)
    # Write BLOCK * 4 bytes.
    tl.store(y_ptr + offs, out, mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x, bias = x.contiguous(), bias.contiguous()
        y = torch.empty_like(x)
        n_elements = x.numel()
        block = CONFIG["BLOCK"]  # noqa: F821 - injected by the evaluator
        bias_gelu_flat_kernel[(triton.cdiv(n_elements, block),)](
            y,
            x,
            bias,
            n_elements,
            x.shape[-1],
            BLOCK=block,
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return y
