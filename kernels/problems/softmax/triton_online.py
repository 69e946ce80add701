"""Softmax for rows of any length in Triton: online max and sum over tiles, then one write pass.

One program per row walks the row in ``BLOCK_N``-wide tiles. The first sweep keeps, per
lane, a running max ``m`` and a running sum ``d`` of ``exp(x - m)``, rescaling ``d`` by
``exp(m_old - m_new)`` whenever the max grows (Milakov and Gimelshein, 2018); the lanes
are combined once, after the loop, so the loop body has no cross-warp reduction. The
second sweep re-reads each tile and writes ``exp(x - m) / d``.

Traffic is two reads and one write, 3 * rows * cols * 4 bytes in fp32, against five
passes for the unfused reference, and the registers a program needs no longer grow with
the row, so it suits vocabulary-sized rows where ``triton_rowwise`` would spill.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK_N": [1024, 2048, 4096, 8192],  # tile width: wider tiles mean fewer loop trips, more registers
    "num_warps": [4, 8, 16],
    "num_stages": [1, 2, 3],  # how many tiles the compiler prefetches ahead in each sweep
}


@triton.jit
def softmax_online_kernel(
    out_ptr,
    x_ptr,
    n_cols,
    x_row_stride,
    out_row_stride,
    BLOCK_N: tl.constexpr,  # tile width; tl.arange needs a compile-time power of two
):
    row = tl.program_id(0).to(tl.int64)
    x_row = x_ptr + row * x_row_stride
    out_row = out_ptr + row * out_row_stride
    cols = tl.arange(0, BLOCK_N)

    # Sweep 1: per-lane running max and rescaled running sum; reads cols * 4 bytes. Keeping one
    # (max, sum) pair per lane defers the cross-warp reductions to a single pair after the loop.
    m_lane = tl.full([BLOCK_N], -float("inf"), dtype=tl.float32)
    d_lane = tl.zeros([BLOCK_N], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK_N):
        offs = start + cols
        x = tl.load(x_row + offs, mask=offs < n_cols, other=-float("inf")).to(tl.float32)
        m_new = tl.maximum(m_lane, x)
        # A lane that has seen only padding keeps max -inf; shift it by 0 so exp gives 0, not NaN.
        m_safe = tl.where(m_new == -float("inf"), 0.0, m_new)
        d_lane = d_lane * tl.exp(m_lane - m_safe) + tl.exp(x - m_safe)
        m_lane = m_new
    m = tl.max(m_lane, axis=0)
    d = tl.sum(d_lane * tl.exp(m_lane - m), axis=0)

    # Sweep 2: normalise and write. Reads cols * 4 bytes, writes cols * 4 bytes.
    inv_d = 1.0 / d
    for start in range(0, n_cols, BLOCK_N):
        offs = start + cols
        mask = offs < n_cols
        x = tl.load(x_row + offs, mask=mask, other=-float("inf")).to(tl.float32)
        tl.store(out_row + offs, tl.exp(x - m) * inv_d, mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x.contiguous()
        n_rows, n_cols = x.shape
        out = torch.empty_like(x)
        # A tile wider than the row only wastes lanes.
        block_n = min(CONFIG["BLOCK_N"], triton.next_power_of_2(n_cols))  # noqa: F821 - injected by the evaluator
        softmax_online_kernel[(n_rows,)](
            out,
            x,
            n_cols,
            x.stride(0),
            out.stride(0),
            BLOCK_N=block_n,
            num_warps=CONFIG["num_warps"],  # noqa: F821
            num_stages=CONFIG["num_stages"],  # noqa: F821
        )
        return out
