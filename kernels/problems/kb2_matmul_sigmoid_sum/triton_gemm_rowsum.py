"""Linear + sigmoid + row sum as one Triton GEMM whose epilogue reduces each tile along its rows.

Each program computes one ``BLOCK_M x BLOCK_N`` tile of the scores ``x @ W^T``, marching
along K (in_features) in ``BLOCK_K`` steps with ``tl.dot`` in fp32 registers; W is the
``nn.Linear`` weight [out_features, in_features], read in place as W^T through its
strides. The epilogue adds the tile's bias, takes the sigmoid and sums the tile's
``BLOCK_N`` columns, so each program leaves ``BLOCK_M`` partial row sums and the
[batch_size, out_features] scores are never written to memory. The partials of a row's
``cdiv(out_features, BLOCK_N)`` tiles are combined by ``REDUCE``:

* ``workspace``: each program writes its partials to a [n_tiles, batch_size] fp32
  workspace and one small reduction sums it in a fixed order (deterministic);
* ``atomic``: each program ``tl.atomic_add``s its partials into the zeroed output
  (no second pass, but the order of the additions varies from run to run).

When one tile spans all of out_features the partials are the answer and no reduction runs.
The sigmoid is ``1 / (1 + t)`` for z >= 0 and ``t / (1 + t)`` for z < 0 with
``t = exp(-|z|)``, which never overflows. fp32 operands use ``input_precision="tf32x3"``,
three TF32 tensor-core products that recover about fp32 accuracy.
"""

import torch
import torch.nn as nn
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK_M": [64, 32, 128],
    "BLOCK_N": [64, 128, 256],
    "BLOCK_K": [64, 32],  # fp32 elements per K step
    "REDUCE": ["workspace", "atomic"],
    "num_warps": [4, 8],
    "num_stages": [2, 3, 4],  # shared-memory pipeline depth along K
}

GROUP_M = 8  # tile-rows per group in the launch order, for L2 reuse
# Shared memory the K pipeline may take: fp32 panels are large, so num_stages is capped to
# fit (A100 and H100 both have more) instead of failing to compile on big tiles.
SMEM_BUDGET_BYTES = 160 * 1024


@triton.jit
def gemm_sigmoid_rowsum_kernel(
    x_ptr,
    w_ptr,
    bias_ptr,
    out_ptr,
    M,
    N,
    K,
    stride_xm,
    stride_xk,
    stride_wn,
    stride_wk,
    BLOCK_M: tl.constexpr,  # tile sizes are compile-time so tl.dot maps them onto tensor-core shapes
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    GROUP_M: tl.constexpr,  # compile-time so the tile-order arithmetic folds to shifts
    ATOMIC: tl.constexpr,  # compile-time: selects atomic accumulation or a plain partials store
):
    # Grouped ordering: walk GROUP_M tile-rows down a column of tiles before moving right.
    pid = tl.program_id(0)
    num_pid_m = tl.cdiv(M, BLOCK_M)
    num_pid_n = tl.cdiv(N, BLOCK_N)
    num_pid_in_group = GROUP_M * num_pid_n
    group_id = pid // num_pid_in_group
    first_pid_m = group_id * GROUP_M
    group_size_m = min(num_pid_m - first_pid_m, GROUP_M)
    pid_m = first_pid_m + ((pid % num_pid_in_group) % group_size_m)
    pid_n = (pid % num_pid_in_group) // group_size_m

    # Rows and columns past the edge wrap around (modulo) so loads stay in bounds unmasked;
    # their results are dropped below. int64 row offsets: batch * in_features can pass 2**31.
    offs_xm = ((pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M).to(tl.int64)
    offs_wn = ((pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N).to(tl.int64)
    offs_k = tl.arange(0, BLOCK_K)
    x_ptrs = x_ptr + offs_xm[:, None] * stride_xm + offs_k[None, :] * stride_xk
    # W^T as a [BLOCK_K, BLOCK_N] panel: element (k, n) is W[n, k].
    w_ptrs = w_ptr + offs_k[:, None] * stride_wk + offs_wn[None, :] * stride_wn

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        # Per step: (BLOCK_M + BLOCK_N) * BLOCK_K * 4 bytes read; the K tail is masked to 0.
        k_remaining = K - k * BLOCK_K
        a = tl.load(x_ptrs, mask=offs_k[None, :] < k_remaining, other=0.0)
        b = tl.load(w_ptrs, mask=offs_k[:, None] < k_remaining, other=0.0)
        acc = tl.dot(a, b, acc, input_precision="tf32x3")
        x_ptrs += BLOCK_K * stride_xk
        w_ptrs += BLOCK_K * stride_wk

    # Epilogue in registers: BLOCK_N * 4 bytes of bias, the sigmoid, and the row sum.
    offs_n = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    col_mask = offs_n < N
    bias = tl.load(bias_ptr + offs_n, mask=col_mask, other=0.0).to(tl.float32)
    z = acc + bias[None, :]
    t = tl.exp(-tl.abs(z))
    sig = tl.where(z >= 0, 1.0, t) / (1.0 + t)
    row_sum = tl.sum(tl.where(col_mask[None, :], sig, 0.0), axis=1)  # padding columns add nothing
    # Write BLOCK_M * 4 bytes: this tile's partial sums, into slice pid_n (or atomically).
    offs_m = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    row_mask = offs_m < M
    if ATOMIC:
        tl.atomic_add(out_ptr + offs_m, row_sum, mask=row_mask)
    else:
        tl.store(out_ptr + pid_n.to(tl.int64) * M + offs_m, row_sum, mask=row_mask)


class ModelNew(nn.Module):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        # Built first and the same way as the reference's, so the same seed gives the same W and b.
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.linear.weight, self.linear.bias
        M, K = x.shape
        N = weight.shape[0]
        block_m = CONFIG["BLOCK_M"]  # noqa: F821 - injected by the evaluator
        block_n = CONFIG["BLOCK_N"]  # noqa: F821
        n_tiles = triton.cdiv(N, block_n)
        atomic = CONFIG["REDUCE"] == "atomic" and n_tiles > 1  # noqa: F821
        if atomic:
            out = torch.zeros((M, 1), dtype=torch.float32, device=x.device)
        else:
            out = torch.empty((n_tiles, M), dtype=torch.float32, device=x.device)
        block_k = CONFIG["BLOCK_K"]  # noqa: F821
        stage_bytes = (block_m + block_n) * block_k * x.element_size()  # one x panel, one W panel
        num_stages = max(1, min(CONFIG["num_stages"], SMEM_BUDGET_BYTES // stage_bytes))  # noqa: F821
        grid = (triton.cdiv(M, block_m) * n_tiles,)
        gemm_sigmoid_rowsum_kernel[grid](
            x,
            weight,
            bias,
            out,
            M,
            N,
            K,
            x.stride(0),
            x.stride(1),
            weight.stride(0),
            weight.stride(1),
            BLOCK_M=block_m,
            BLOCK_N=block_n,
            BLOCK_K=block_k,
            GROUP_M=GROUP_M,
            ATOMIC=atomic,
            num_warps=CONFIG["num_warps"],  # noqa: F821
            num_stages=num_stages,
        )
        if atomic:
            return out.to(x.dtype)
        # The second, small reduction: n_tiles partials per row, summed in a fixed order.
        sums = out[0] if n_tiles == 1 else out.sum(dim=0)
        return sums.to(x.dtype).view(M, 1)
