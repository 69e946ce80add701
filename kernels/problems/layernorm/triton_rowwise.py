"""Fused LayerNorm in Triton: each program normalises ``BLOCK_M`` whole rows held in registers.

Each program loads a ``BLOCK_M x BLOCK_N`` tile (``BLOCK_N`` is the next power of two
>= cols), computes every row's mean and biased variance from the registers, and writes
``(x - mean) * rstd * weight + bias``. x is read once and y written once,
2 * rows * cols * 4 bytes in fp32, against seven full-size passes for the unfused
reference. The variance is taken around the mean, never as E[x^2] - E[x]^2, so it stays
accurate for large, off-centre inputs.

Weight and bias are loaded once per program and shared by its rows; several rows per
program also keep all warps busy when rows are narrow.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "num_warps": [1, 2, 4, 8, 16],  # threads that share one tile: wide rows want more
    "rows_per_program": [1, 2, 4, 8, 16],  # rows per tile, sharing one load of weight and bias
}

# A tile never holds more than this many elements, so rows_per_program shrinks for wide rows
# instead of spilling registers.
MAX_TILE_ELEMENTS = 16384


@triton.jit
def layernorm_rowwise_kernel(
    y_ptr,
    x_ptr,
    w_ptr,
    b_ptr,
    n_rows,
    n_cols,
    x_row_stride,
    y_row_stride,
    eps,
    BLOCK_M: tl.constexpr,  # rows per tile; a compile-time power of two for tl.arange
    BLOCK_N: tl.constexpr,  # the whole row in one tile; tl.arange needs a compile-time power of two
):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tl.arange(0, BLOCK_N)
    col_mask = cols < n_cols
    # Weight and bias: 2 * cols * 4 bytes per program, shared by all its rows.
    w = tl.load(w_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)
    b = tl.load(b_ptr + cols, mask=col_mask, other=0.0).to(tl.float32)
    # Rows past the end recompute the last row and are masked at the store.
    safe_rows = tl.minimum(rows, n_rows - 1).to(tl.int64)
    # Read the tile once: BLOCK_M * cols * 4 bytes. Padding columns read 0.
    x = tl.load(
        x_ptr + safe_rows[:, None] * x_row_stride + cols[None, :], mask=col_mask[None, :], other=0.0
    ).to(tl.float32)
    mean = tl.sum(x, axis=1) / n_cols
    centered = tl.where(col_mask[None, :], x - mean[:, None], 0.0)
    var = tl.sum(centered * centered, axis=1) / n_cols
    rstd = 1.0 / tl.sqrt(var + eps)
    y = centered * rstd[:, None] * w[None, :] + b[None, :]
    # Write the tile once: BLOCK_M * cols * 4 bytes.
    mask = (rows[:, None] < n_rows) & col_mask[None, :]
    tl.store(y_ptr + safe_rows[:, None] * y_row_stride + cols[None, :], y, mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x, weight, bias = x.contiguous(), weight.contiguous(), bias.contiguous()
        n_rows, n_cols = x.shape
        y = torch.empty_like(x)
        block_n = triton.next_power_of_2(n_cols)
        block_m = min(CONFIG["rows_per_program"], max(1, MAX_TILE_ELEMENTS // block_n))  # noqa: F821 - injected by the evaluator
        layernorm_rowwise_kernel[(triton.cdiv(n_rows, block_m),)](
            y,
            x,
            weight,
            bias,
            n_rows,
            n_cols,
            x.stride(0),
            y.stride(0),
            self.eps,
            BLOCK_M=block_m,
            BLOCK_N=block_n,
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return y
