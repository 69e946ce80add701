"""Fused bias + GELU (tanh approximation) in Triton over 2-D tiles of rows and columns.

A program owns a ``BLOCK_M x BLOCK_N`` tile. It loads the tile's ``BLOCK_N`` bias values
once and broadcasts them down its ``BLOCK_M`` rows, so there is no per-element integer
modulo (as in ``triton_flat``) and the bias costs BLOCK_N loads per tile. x is read
once and y written once, 2 * rows * cols * 4 bytes in fp32.

GELU is evaluated as ``y * (1 + tanh(z)) / 2`` with ``t = exp(-2|z|)``:
``1 + tanh(z)`` is ``2 / (1 + t)`` for z >= 0 and ``2t / (1 + t)`` for z < 0. That never
overflows and never cancels, for any input magnitude.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK_M": [4, 8, 16],  # rows per tile, sharing one load of the bias
    "BLOCK_N": [256, 512, 1024],  # columns per tile
    "num_warps": [2, 4, 8],
}


@triton.jit
def bias_gelu_tiled_kernel(
    y_ptr,
    x_ptr,
    bias_ptr,
    n_rows,
    n_cols,
    x_row_stride,
    y_row_stride,
    BLOCK_M: tl.constexpr,  # rows per tile; a compile-time power of two for tl.arange
    BLOCK_N: tl.constexpr,  # columns per tile; a compile-time power of two for tl.arange
):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tl.program_id(1) * BLOCK_N + tl.arange(0, BLOCK_N)
    col_mask = cols < n_cols
    mask = (rows[:, None] < n_rows) & col_mask[None, :]
    rows64 = rows.to(tl.int64)
    # Bias: BLOCK_N * 4 bytes per tile, shared by all BLOCK_M rows.
    b = tl.load(bias_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)
    # Read BLOCK_M * BLOCK_N * 4 bytes of x.
    x = tl.load(x_ptr + rows64[:, None] * x_row_stride + cols[None, :], mask=mask, other=0.0)
    y = x.to(tl.float32) + b[None, :]
    z = 0.7978845608028654 * (y + 0.044715 * y * y * y)  # sqrt(2/pi) * (y + 0.044715 y^3)
    t = tl.exp(-2.0 * tl.abs(z))
    out = y * tl.where(z >= 0, 1.0, t) / (1.0 + t)
    # Write BLOCK_M * BLOCK_N * 4 bytes.
    tl.store(y_ptr + rows64[:, None] * y_row_stride + cols[None, :], out, mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x, bias = x.contiguous(), bias.contiguous()
        n_rows, n_cols = x.shape
        y = torch.empty_like(x)
        block_m = CONFIG["BLOCK_M"]  # noqa: F821 - injected by the evaluator
        block_n = CONFIG["BLOCK_N"]  # noqa: F821
        grid = (triton.cdiv(n_rows, block_m), triton.cdiv(n_cols, block_n))
        bias_gelu_tiled_kernel[grid](
            y,
            x,
            bias,
            n_rows,
            n_cols,
            x.stride(0),
            y.stride(0),
            BLOCK_M=block_m,
            BLOCK_N=block_n,
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return y
