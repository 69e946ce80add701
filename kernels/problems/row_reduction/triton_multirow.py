"""Row L2 norm in Triton for many short rows: ``ROWS`` rows per program as one 2-D tile.

Each program owns ``ROWS`` consecutive rows and walks them together in
``[ROWS, BLOCK]`` tiles, adding the squares into a per-lane fp32 accumulator of that
shape, then reduces along the columns once: ``y = sqrt(sum + eps)`` for each of its rows.
x is read once and one value per row written, (rows * cols + rows) * itemsize bytes.

With a row of a few hundred columns, one program per row (``triton_rowwise``) leaves
most lanes of a warp idle or launches hundreds of thousands of tiny programs; packing
rows into one tile keeps every lane loading and each program's loads long enough to
saturate memory. The loop over columns keeps it correct for rows of any width.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "ROWS": [8, 1, 2, 4, 16, 32, 64],  # rows per program: short rows want more
    "BLOCK": [256, 64, 128, 512, 1024],  # tile width in columns
    "num_warps": [4, 1, 2, 8],  # ROWS * BLOCK / (32 * num_warps) elements per thread per trip
}

# A tile never holds more than this many elements, so ROWS shrinks for wide tiles instead of
# spilling registers.
MAX_TILE_ELEMENTS = 16384


@triton.jit
def row_norm_multirow_kernel(
    y_ptr,
    x_ptr,
    n_rows,
    n_cols,
    x_row_stride,
    eps,
    ROWS: tl.constexpr,  # rows per tile; a compile-time power of two for tl.arange
    BLOCK: tl.constexpr,  # columns per tile; tl.arange needs a compile-time power of two
):
    rows = tl.program_id(0).to(tl.int64) * ROWS + tl.arange(0, ROWS)  # int64 row offsets
    row_mask = rows < n_rows
    row_ptrs = x_ptr + rows[:, None] * x_row_stride
    cols = tl.arange(0, BLOCK)
    # Read ROWS rows once: ROWS * cols * itemsize bytes. Masked lanes (past the last row or
    # column) add 0.
    acc = tl.zeros([ROWS, BLOCK], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK):
        offs = start + cols
        mask = row_mask[:, None] & (offs < n_cols)[None, :]
        x = tl.load(row_ptrs + offs[None, :], mask=mask, other=0.0).to(tl.float32)
        acc += x * x
    total = tl.sum(acc, axis=1)
    # Write ROWS values: ROWS * itemsize bytes, rounded once to the output dtype.
    tl.store(y_ptr + rows, tl.sqrt(total + eps).to(y_ptr.dtype.element_ty), mask=row_mask)


class ModelNew(torch.nn.Module):
    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        n_rows, n_cols = x.shape
        y = torch.empty(n_rows, dtype=x.dtype, device=x.device)
        # A tile wider than the row only wastes lanes.
        block = min(CONFIG["BLOCK"], triton.next_power_of_2(n_cols))  # noqa: F821 - injected by the evaluator
        rows = min(CONFIG["ROWS"], max(1, MAX_TILE_ELEMENTS // block))  # noqa: F821
        row_norm_multirow_kernel[(triton.cdiv(n_rows, rows),)](
            y,
            x,
            n_rows,
            n_cols,
            x.stride(0),
            self.eps,
            ROWS=rows,
            BLOCK=block,
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return y
