"""Residual add + LayerNorm for rows of any width in Triton, in two sweeps of ``BLOCK``-wide tiles.

One program per row. Sweep 1 reads x and residual tile by tile, forms the sum (rounded to
the input dtype, as the residual stream is stored) and accumulates its statistics in fp32
per lane; one reduction at the end gives the row's mean and biased variance. Sweep 2
re-reads x and residual, re-forms the sum and writes ``(s - mean) * rstd * weight + bias``.
That is two reads of x and residual and one write of y, 5 * tokens * hidden * itemsize
bytes, where the second read of the row usually hits in L2; registers stay bounded
whatever the row width, so very wide rows do not spill as they would in
``triton_rowwise``.

Two ways to accumulate the statistics (``stats``):

* ``welford``: each lane keeps a running count, mean and sum of squared deviations
  (Welford's update); the lanes are merged at the end with Chan's formula, as deviations
  from the row mean. Accurate for any row, however far off centre.
* ``sumsq``: each lane keeps the sum and the sum of squares, and
  var = E[s^2] - E[s]^2. Cheaper per element, but it cancels when |mean| >> std.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK": [1024, 256, 512, 2048, 4096],  # tile width: wider tiles mean fewer loop trips, more registers
    "stats": ["welford", "sumsq"],
    "num_warps": [4, 2, 8, 16],  # BLOCK / (32 * num_warps) elements per thread per tensor
}


@triton.jit
def residual_layernorm_tiled_kernel(
    y_ptr,
    x_ptr,
    res_ptr,
    w_ptr,
    b_ptr,
    n_cols,
    x_row_stride,
    res_row_stride,
    y_row_stride,
    eps,
    BLOCK: tl.constexpr,  # tile width; tl.arange needs a compile-time power of two
    WELFORD: tl.constexpr,  # which statistics loop to compile; a branch resolved at compile time
):
    row = tl.program_id(0).to(tl.int64)  # int64: row * stride overflows int32 on large inputs
    x_row = x_ptr + row * x_row_stride
    r_row = res_ptr + row * res_row_stride
    y_row = y_ptr + row * y_row_stride
    cols = tl.arange(0, BLOCK)

    # Sweep 1: the statistics. Reads 2 * hidden * itemsize bytes; per-lane partials in fp32.
    if WELFORD:
        lane_mean = tl.zeros([BLOCK], dtype=tl.float32)
        lane_m2 = tl.zeros([BLOCK], dtype=tl.float32)
        lane_n = tl.zeros([BLOCK], dtype=tl.float32)
        for start in range(0, n_cols, BLOCK):
            offs = start + cols
            mask = offs < n_cols
            x = tl.load(x_row + offs, mask=mask, other=0.0).to(tl.float32)
            r = tl.load(r_row + offs, mask=mask, other=0.0).to(tl.float32)
            s = (x + r).to(x_ptr.dtype.element_ty).to(tl.float32)
            new_n = lane_n + tl.where(mask, 1.0, 0.0)
            delta = s - lane_mean
            new_mean = lane_mean + tl.where(mask, delta / tl.maximum(new_n, 1.0), 0.0)
            lane_m2 += tl.where(mask, delta * (s - new_mean), 0.0)
            lane_mean = new_mean
            lane_n = new_n
        # Merge the lanes (Chan's formula for all of them at once): the row mean is the
        # count-weighted lane mean, and M2 adds each lane's spread around that mean.
        mean = tl.sum(lane_n * lane_mean, axis=0) / n_cols
        spread = lane_mean - mean
        var = (tl.sum(lane_m2, axis=0) + tl.sum(lane_n * spread * spread, axis=0)) / n_cols
    else:
        acc_sum = tl.zeros([BLOCK], dtype=tl.float32)
        acc_sq = tl.zeros([BLOCK], dtype=tl.float32)
        for start in range(0, n_cols, BLOCK):
            offs = start + cols
            mask = offs < n_cols
            x = tl.load(x_row + offs, mask=mask, other=0.0).to(tl.float32)
            r = tl.load(r_row + offs, mask=mask, other=0.0).to(tl.float32)
            s = (x + r).to(x_ptr.dtype.element_ty).to(tl.float32)  # padding lanes are 0 + 0
            acc_sum += s
            acc_sq += s * s
        mean = tl.sum(acc_sum, axis=0) / n_cols
        var = tl.maximum(tl.sum(acc_sq, axis=0) / n_cols - mean * mean, 0.0)
    rstd = 1.0 / tl.sqrt(var + eps)

    # Sweep 2: normalise, scale, shift and write. Reads 2 * hidden * itemsize bytes of x and
    # residual (mostly from L2) plus weight and bias; writes hidden * itemsize bytes.
    for start in range(0, n_cols, BLOCK):
        offs = start + cols
        mask = offs < n_cols
        x = tl.load(x_row + offs, mask=mask, other=0.0).to(tl.float32)
        r = tl.load(r_row + offs, mask=mask, other=0.0).to(tl.float32)
        s = (x + r).to(x_ptr.dtype.element_ty).to(tl.float32)
        w = tl.load(w_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        b = tl.load(b_ptr + offs, mask=mask, other=0.0).to(tl.float32)
        y = (s - mean) * rstd * w + b
        tl.store(y_row + offs, y.to(y_ptr.dtype.element_ty), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def forward(
        self, x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
    ) -> torch.Tensor:
        x, residual = x.contiguous(), residual.contiguous()
        weight, bias = weight.contiguous(), bias.contiguous()
        n_rows, n_cols = x.shape
        y = torch.empty_like(x)
        # A tile wider than the row only wastes lanes.
        block = min(CONFIG["BLOCK"], triton.next_power_of_2(n_cols))  # noqa: F821 - injected by the evaluator
        residual_layernorm_tiled_kernel[(n_rows,)](
            y,
            x,
            residual,
            weight,
            bias,
            n_cols,
            x.stride(0),
            residual.stride(0),
            y.stride(0),
            self.eps,
            BLOCK=block,
            WELFORD=CONFIG["stats"] == "welford",  # noqa: F821
            num_warps=CONFIG["num_warps"],  # noqa: F821
        )
        return y
