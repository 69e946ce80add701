"""Fused row-wise softmax in Triton: each program holds ``BLOCK_M`` whole rows in registers.

Each program loads a ``BLOCK_M x BLOCK_N`` tile (``BLOCK_N`` is the next power of two
>= cols), subtracts each row's max, exponentiates, sums and divides, and writes the tile
back. Every row is read from DRAM once and written once, 2 * rows * cols * 4 bytes in
fp32, where the unfused reference makes five passes and materialises four temporaries.
Several rows per program keep all warps busy when rows are narrow.

Subtracting the row max keeps ``exp`` in range for any input magnitude. Rows wider than
a few tens of thousands of columns spill registers; ``triton_online`` tiles those.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "num_warps": [1, 2, 4, 8, 16],  # threads that share one tile: wide rows want more
    "rows_per_program": [1, 2, 4, 8, 16],  # rows per tile: narrow rows want several to fill the warps
}

# A tile never holds more than this many elements, so rows_per_program shrinks for wide rows
# instead of spilling registers.
MAX_TILE_ELEMENTS = 16384


@triton.jit
def softmax_rowwise_kernel(
    out_ptr,
    x_ptr,
    n_rows,
    n_cols,
    x_row_stride,
    out_row_stride,
    BLOCK_M: tl.constexpr,  # rows per tile; a compile-time power of two for tl.arange
    BLOCK_N: tl.constexpr,  # the whole row in one tile; tl.arange needs a compile-time power of two
):
    rows = tl.program_id(0) * BLOCK_M + tl.arange(0, BLOCK_M)
    cols = tl.arange(0, BLOCK_N)
    col_mask = cols[None, :] < n_cols
    # Rows past the end recompute the last row and are masked at the store, so no lane sees NaN.
    safe_rows = tl.minimum(rows, n_rows - 1).to(tl.int64)
    # Read the tile once: BLOCK_M * cols * 4 bytes. Padding columns read -inf, so exp gives 0.
    x = tl.load(
        x_ptr + safe_rows[:, None] * x_row_stride + cols[None, :],
        mask=col_mask,
        other=-float("inf"),
    ).to(tl.float32)
    shifted = x - tl.max(x, axis=1)[:, None]
    numerator = tl.exp(shifted)
    denominator = tl.sum(numerator, axis=1)
    # Write the tile once: BLOCK_M * cols * 4 bytes.
    out = numerator / denominator[:, None]
    mask = (rows[:, None] < n_rows) & col_mask
    tl.store(out_ptr + safe_rows[:, None] * out_row_stride + cols[None, :], out, mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        n_rows, n_cols = x.shape
        out = torch.empty_like(x)
        block_n = triton.next_power_of_2(n_cols)
        block_m = min(CONFIG["rows_per_program"], max(1, MAX_TILE_ELEMENTS // block_n))  # noqa: F821 - injected by the evaluator
        softmax_rowwise_kernel[(triton.cdiv(n_rows, block_m),)](
            out,
            x,
            n_rows,
            n_cols,
            x.stride(0),
            out.stride(0),
            BLOCK_M=block_m,
            BLOCK_N=block_n,
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return out
