"""LayerNorm for rows of any width in Triton, walking each row in fixed-width tiles.

This is the forward kernel of Triton's layer-norm tutorial. One program per row makes
three sweeps over ``BLOCK_N``-wide tiles: the first sums x for the mean, the second sums
(x - mean)^2 for the biased variance, the third writes ``(x - mean) * rstd * w + b``.
That is three reads of x and one write, 4 * rows * cols * 4 bytes in fp32, plus the
weight and bias; the later sweeps usually hit in L2. Registers stay bounded whatever the
row width, so very wide rows do not spill as they would in ``triton_rowwise``.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK_N": [512, 1024, 2048, 4096],  # tile width: wider tiles mean fewer loop trips, more registers
    "num_warps": [2, 4, 8, 16],
}


@triton.jit
def layernorm_tiled_kernel(
    y_ptr,
    x_ptr,
    w_ptr,
    b_ptr,
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

    # Sweep 1: the mean. Reads cols * 4 bytes. Per-lane partial sums, reduced once at the end.
    acc = tl.zeros([BLOCK_N], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        offs = start + cols
        acc += tl.load(x_row + offs, mask=offs < n_cols, other=0.0).to(tl.float32)
    mean = tl.sum(acc, axis=0) / n_cols

    # Sweep 2: the biased variance around the mean. Reads cols * 4 bytes.
    acc = tl.zeros([BLOCK_N], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        offs = start + cols
        mask = offs < n_cols
        x = tl.load(x_row + offs, mask=mask, other=0.0).to(tl.float32)
        centered = tl.where(mask, x - mean, 0.0)
        acc += centered * centered
    rstd = 1.0 / tl.sqrt(tl.sum(acc, axis=0) / n_cols + eps)

    # Sweep 3: normalise, scale, shift and write. Reads cols * 4 bytes of x, w and b; writes cols * 4.
    for start in range(0, n_cols, BLOCK_N):
        offs = start + cols
        mask = offs < n_cols
        x = tl.load(x_row + offs, mask=mask, other=0.0).to(tl.float32)
        w = tl.load(w_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        b = tl.load(b_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        tl.store(y_row + offs, (x - mean) * rstd * w + b, mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        x, weight, bias = x.contiguous(), weight.contiguous(), bias.contiguous()
        n_rows, n_cols = x.shape
        y = torch.empty_like(x)
        # A tile wider than the row only wastes lanes.
        block_n = min(CONFIG["BLOCK_N"], triton.next_power_of_2(n_cols))  # noqa: F821 - injected by the evaluator
        layernorm_tiled_kernel[(n_rows,)](
            y,
            x,
            weight,
            bias,
            n_cols,
            x.stride(0),
            y.stride(0),
            self.eps,
            BLOCK_N=block_n,
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return y
