"""RMSNorm for rows of any width in Triton, walking each row in fixed-width tiles.

One program per row makes two sweeps over ``BLOCK_N``-wide tiles: the first accumulates
per-lane partial sums of x^2 (reduced across lanes once, after the loop), the second
writes ``x * rstd * weight``. That is two reads of x and one write,
3 * rows * cols * 4 bytes in fp32, plus the weight; the second sweep usually hits in L2.
Registers stay bounded whatever the row width, so very wide rows do not spill as they
would in ``triton_rowwise``.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK_N": [512, 1024, 2048, 4096],  # tile width: wider tiles mean fewer loop trips, more registers
    "num_warps": [2, 4, 8, 16],
}


@triton.jit
def rmsnorm_tiled_kernel(
    y_ptr,
    x_ptr,
    w_ptr,
    n_cols,
    x_row_stride,
    y_row_stride,
    eps,
    BLOCK_N: tl.constexpr,  # tile width; tl.arange needs a compile-time power of two
):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * x_row_stride
    y_row = y_ptr + row * y_row_stride
    cols = tl.arange(0, BLOCK_N)

    # Sweep 1: the sum of squares. Reads cols * 4 bytes.
    acc = tl.zeros([BLOCK_N], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        offs = start + cols
        x = tl.load(x_row + offs, mask=offs < n_cols, other=0.0).to(tl.float32)
        acc += x * x
    rstd = 1.0 / tl.sqrt(tl.sum(acc, axis=0) / n_cols + eps)

    # Sweep 2: scale and write. Reads cols * 4 bytes of x and of the weight; writes cols * 4 bytes.
    for start in range(0, n_cols, BLOCK_N):
        offs = start + cols
        mask = offs < n_cols
        x = tl.load(x_row + offs, mask=mask, other=0.0).to(tl.float32)
        w = tl.load(w_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        tl.store(y_row + offs, x * rstd * w, mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        x, weight = x.contiguous(), weight.contiguous()
        n_rows, n_cols = x.shape
        y = torch.empty_like(x)
        # A tile wider than the row only wastes lanes.
        block_n = min(CONFIG["BLOCK_N"], triton.next_power_of_2(n_cols))  # noqa: F821 - injected by the evaluator
        rmsnorm_tiled_kernel[(n_rows,)](
            y,
            x,
            weight,
            n_cols,
            x.stride(0),
            y.stride(0),
            self.eps,
            BLOCK_N=block_n,
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return y
