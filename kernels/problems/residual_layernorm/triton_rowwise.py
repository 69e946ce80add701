"""Residual add + LayerNorm in Triton: one program per row, the whole row held in registers.

Each program loads its row of x and of residual (``BLOCK`` is the next power of two
>= hidden, chosen at run time), adds them and rounds the sum to the input dtype, as the
residual stream is stored, then computes the mean and the biased variance from the
registers and writes ``(s - mean) * rstd * weight + bias``. x and residual are read once
and y written once, 3 * tokens * hidden * itemsize bytes, where the unfused reference
makes up to ten passes through full-size temporaries. Statistics and the affine step are
computed in fp32 whatever the input dtype; y is rounded once to the input dtype.

The variance is taken around the mean, never as E[s^2] - E[s]^2, so it stays accurate
for off-centre rows. For rows too wide for registers, see ``triton_tiled``.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    # Threads sharing one row: BLOCK / (32 * num_warps) elements per thread per tensor.
    # 8 keeps hidden 8192 at 32 fp32 values per thread per tensor, without spills.
    "num_warps": [8, 4, 16, 2, 1],
}


@triton.jit
def residual_layernorm_rowwise_kernel(
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
    BLOCK: tl.constexpr,  # the whole row in one tile; tl.arange needs a compile-time power of two
):
    row = tl.program_id(0).to(tl.int64)  # int64: row * stride overflows int32 on large inputs
    cols = tl.arange(0, BLOCK)
    mask = cols < n_cols
    # Read the row once: 2 * hidden * itemsize bytes of x and residual. Padding columns read 0.
    x = tl.load(x_ptr + row * x_row_stride + cols, mask=mask, other=0.0).to(tl.float32)
    r = tl.load(res_ptr + row * res_row_stride + cols, mask=mask, other=0.0).to(tl.float32)
    # The residual stream is stored in the input dtype: round the sum once, as the reference does.
    s = (x + r).to(x_ptr.dtype.element_ty).to(tl.float32)
    mean = tl.sum(s, axis=0) / n_cols
    centered = tl.where(mask, s - mean, 0.0)
    var = tl.sum(centered * centered, axis=0) / n_cols
    rstd = 1.0 / tl.sqrt(var + eps)
    # Weight and bias: 2 * hidden * itemsize bytes per program, shared by all rows through L2.
    w = tl.load(w_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    b = tl.load(b_ptr + cols, mask=mask, other=0.0).to(tl.float32)
    y = centered * rstd * w + b
    # Write the row once: hidden * itemsize bytes, rounded once to the output dtype.
    tl.store(y_ptr + row * y_row_stride + cols, y.to(y_ptr.dtype.element_ty), mask=mask)


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
        residual_layernorm_rowwise_kernel[(n_rows,)](
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
            BLOCK=triton.next_power_of_2(n_cols),
            num_warps=CONFIG["num_warps"],  # noqa: F821 - injected by the evaluator
        )
        return y
