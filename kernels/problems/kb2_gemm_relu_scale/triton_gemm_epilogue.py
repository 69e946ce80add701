"""Linear + ReLU + scale as one Triton GEMM with the epilogue fused (Triton's matmul tutorial).

Each program computes one ``BLOCK_M x BLOCK_N`` tile of ``x @ W^T``, marching along K
(in_features) in ``BLOCK_K`` steps and accumulating with ``tl.dot`` in fp32 registers.
W is the ``nn.Linear`` weight, [out_features, in_features], read in place as W^T through
its strides. Before the tile is stored, the program adds its ``BLOCK_N`` bias values,
applies ReLU and multiplies by the scale, all in registers, so the output is written
once and never read back, where the reference writes and rereads two full-size
temporaries.

Programs are ordered in groups of ``GROUP_M`` tile-rows so tiles that run together share
panels of x and W in L2. The operands are fp32 (KernelBench's dtype), and ``tl.dot`` uses
``input_precision="tf32x3"``: three TF32 tensor-core products that recover about fp32
accuracy, where plain TF32 does not match an fp32 reference on heavy-tailed inputs.
"""

import torch
import torch.nn as nn
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK_M": [64, 128],
    "BLOCK_N": [64, 128, 256],
    "BLOCK_K": [32, 16, 64],  # fp32 elements per K step
    "num_warps": [4, 8],
    "num_stages": [3, 2, 4],  # shared-memory pipeline depth along K
}

GROUP_M = 8  # tile-rows per group in the launch order, for L2 reuse
# Shared memory the K pipeline may take: fp32 panels are large, so num_stages is capped to
# fit (A100 and H100 both have more) instead of failing to compile on big tiles.
SMEM_BUDGET_BYTES = 160 * 1024


@triton.jit
def gemm_relu_scale_kernel(
    x_ptr,
    w_ptr,
    bias_ptr,
    y_ptr,
    M,
    N,
    K,
    scale,
    stride_xm,
    stride_xk,
    stride_wn,
    stride_wk,
    stride_ym,
    stride_yn,
    BLOCK_M: tl.constexpr,  # tile sizes are compile-time so tl.dot maps them onto tensor-core shapes
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    GROUP_M: tl.constexpr,  # compile-time so the tile-order arithmetic folds to shifts
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
    # the store mask drops their results. int64 row offsets: batch * features can pass 2**31.
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

    # Epilogue in registers: BLOCK_N * 4 bytes of bias, then ReLU and the scale.
    offs_ym = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_yn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    bias = tl.load(bias_ptr + offs_yn, mask=offs_yn < N, other=0.0).to(tl.float32)
    out = tl.maximum(acc + bias[None, :], 0.0) * scale
    # Write the tile once: BLOCK_M * BLOCK_N * 4 bytes.
    y_ptrs = y_ptr + offs_ym.to(tl.int64)[:, None] * stride_ym + offs_yn[None, :] * stride_yn
    y_mask = (offs_ym[:, None] < M) & (offs_yn[None, :] < N)
    tl.store(y_ptrs, out.to(y_ptr.dtype.element_ty), mask=y_mask)


class ModelNew(nn.Module):
    def __init__(self, in_features: int, out_features: int, scale: float) -> None:
        super().__init__()
        # Built first and the same way as the reference's, so the same seed gives the same W and b.
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        weight, bias = self.linear.weight, self.linear.bias
        M, K = x.shape
        N = weight.shape[0]
        y = torch.empty((M, N), dtype=x.dtype, device=x.device)
        block_m = CONFIG["BLOCK_M"]  # noqa: F821 - injected by the evaluator
        block_n = CONFIG["BLOCK_N"]  # noqa: F821
        block_k = CONFIG["BLOCK_K"]  # noqa: F821
        stage_bytes = (block_m + block_n) * block_k * x.element_size()  # one x panel, one W panel
        num_stages = max(1, min(CONFIG["num_stages"], SMEM_BUDGET_BYTES // stage_bytes))  # noqa: F821
        grid = (triton.cdiv(M, block_m) * triton.cdiv(N, block_n),)
        gemm_relu_scale_kernel[grid](
            x,
            weight,
            bias,
            y,
            M,
            N,
            K,
            float(self.scale),
            x.stride(0),
            x.stride(1),
            weight.stride(0),
            weight.stride(1),
            y.stride(0),
            y.stride(1),
            BLOCK_M=block_m,
            BLOCK_N=block_n,
            BLOCK_K=block_k,
            GROUP_M=GROUP_M,
            num_warps=CONFIG["num_warps"],  # noqa: F821
            num_stages=num_stages,
        )
        return y
