"""Fused cross-entropy in Triton: an online logsumexp per row, then a deterministic mean.

Kernel 1 runs one program per row. It walks the row's logits in ``BLOCK_V``-wide tiles,
keeping per lane a running max ``m`` and a running sum ``d`` of ``exp(x - m)``,
rescaled by ``exp(m_old - m_new)`` whenever the max grows; the lanes are combined once
after the loop. The row's loss is ``m + log(d) - x[target]``, the target logit being one
extra scalar load. It reads the logits once, rows * vocab * 4 bytes in fp32, and writes
rows * 4 bytes, where the unfused reference makes five passes over [rows, vocab]
tensors and writes three of them; registers stay bounded for any vocabulary size.

Kernel 2 is a single program that sums the per-row losses in a fixed order and divides
by the row count, so the result does not depend on scheduling (atomics would).
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK_V": [1024, 2048, 4096, 8192],  # tile width: wider tiles mean fewer loop trips, more registers
    "num_warps": [4, 8, 16],
    "num_stages": [1, 2, 3],  # how many tiles the compiler prefetches ahead
}

MEAN_BLOCK = 1024  # per-row losses summed per step by the single mean program


@triton.jit
def cross_entropy_rows_kernel(
    loss_ptr,
    logits_ptr,
    targets_ptr,
    n_cols,
    row_stride,
    BLOCK_V: tl.constexpr,  # tile width; tl.arange needs a compile-time power of two
):
    row = tl.program_id(0).to(tl.int64)
    row_ptr = logits_ptr + row * row_stride
    cols = tl.arange(0, BLOCK_V)

    # Online logsumexp over the row: reads vocab * 4 bytes.
    m_lane = tl.full([BLOCK_V], -float("inf"), dtype=tl.float32)
    d_lane = tl.zeros([BLOCK_V], dtype=tl.float32)
    for start in range(0, n_cols, BLOCK_V):
        offs = start + cols
        x = tl.load(row_ptr + offs, mask=offs < n_cols, other=-float("inf")).to(tl.float32)
        m_new = tl.maximum(m_lane, x)
        # A lane that has seen only padding keeps max -inf; shift it by 0 so exp gives 0, not NaN.
        m_safe = tl.where(m_new == -float("inf"), 0.0, m_new)
        d_lane = d_lane * tl.exp(m_lane - m_safe) + tl.exp(x - m_safe)
        m_lane = m_new
    m = tl.max(m_lane, axis=0)
    log_sum_exp = m + tl.log(tl.sum(d_lane * tl.exp(m_lane - m), axis=0))

    # The target's logit: 8 bytes of target index and 4 bytes of logit.
    target = tl.load(targets_ptr + row)
    target_logit = tl.load(row_ptr + target).to(tl.float32)
    tl.store(loss_ptr + row, log_sum_exp - target_logit)


@triton.jit
def mean_kernel(
    out_ptr,
    loss_ptr,
    n_rows,
    BLOCK: tl.constexpr,  # losses per step; tl.arange needs a compile-time power of two
):
    # One program: reads rows * 4 bytes in a fixed order, writes one float.
    offs = tl.arange(0, BLOCK)
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    for start in range(0, n_rows, BLOCK):
        acc += tl.load(loss_ptr + start + offs, mask=start + offs < n_rows, other=0.0)
    tl.store(out_ptr, tl.sum(acc, axis=0) / n_rows)


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        logits, targets = logits.contiguous(), targets.contiguous()
        n_rows, n_cols = logits.shape
        row_losses = torch.empty(n_rows, dtype=torch.float32, device=logits.device)
        # A tile wider than the row only wastes lanes.
        block_v = min(CONFIG["BLOCK_V"], triton.next_power_of_2(n_cols))  # noqa: F821 - injected by the evaluator
        cross_entropy_rows_kernel[(n_rows,)](
            row_losses,
            logits,
            targets,
            n_cols,
            logits.stride(0),
            BLOCK_V=block_v,
            num_warps=CONFIG["num_warps"],  # noqa: F821
            num_stages=CONFIG["num_stages"],  # noqa: F821
        )
        out = torch.empty((), dtype=torch.float32, device=logits.device)
        mean_kernel[(1,)](out, row_losses, n_rows, BLOCK=MEAN_BLOCK, num_warps=4)
        return out
