"""Row L2 norm in Triton: one program per row, walking the row in ``BLOCK``-wide tiles.

Each program streams its row through registers ``BLOCK`` columns at a time, adding the
squares into a per-lane fp32 accumulator, and reduces the lanes once at the end:
``y = sqrt(sum + eps)``. x is read once and one value per row written,
(rows * cols + rows) * itemsize bytes, where the reference writes and re-reads a
full-size temporary of squares. Registers stay bounded whatever the row width.

One program per row suits long rows; for many short rows, where a program per row leaves
most lanes idle, see ``triton_multirow``.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK": [
        1024,
        256,
        512,
        2048,
        4096,
        8192,
    ],  # tile width: wider tiles mean fewer loop trips, more registers
    "num_warps": [4, 1, 2, 8, 16],  # BLOCK / (32 * num_warps) elements per thread per trip
}


@triton.jit
def row_norm_rowwise_kernel(
    y_ptr,
    x_ptr,
    n_cols,
    x_row_stride,
    eps,
    BLOCK: tl.constexpr,  # tile width; tl.arange needs a compile-time power of two
):
    row = tl.program_id(0).to(tl.int64)  # int64: row * stride overflows int32 on large inputs
    x_row = x_ptr + row * x_row_stride
    cols = tl.arange(0, BLOCK)
    # Read the row once: cols * itemsize bytes. Per-lane fp32 partial sums, padding lanes add 0.
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK):
        offs = start + cols
        x = tl.load(x_row + offs, mask=offs < n_cols, other=0.0).to(tl.float32)
        acc += x * x
    total = tl.sum(acc, axis=0)
    # Write one value: itemsize bytes, rounded once to the output dtype.
    tl.store(y_ptr + row, tl.sqrt(total + eps).to(y_ptr.dtype.element_ty))


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
        row_norm_rowwise_kernel[(n_rows,)](
            y,
            x,
            n_cols,
            x.stride(0),
            self.eps,
            BLOCK=block,
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return y
