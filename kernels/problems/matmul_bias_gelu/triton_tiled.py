"""Tiled matmul with a fused bias + tanh-GELU epilogue in Triton (Triton's matmul tutorial).

Each program computes one ``BLOCK_M x BLOCK_N`` tile of y, marching along K in
``BLOCK_K`` steps: it loads a ``BLOCK_M x BLOCK_K`` panel of a and a ``BLOCK_K x BLOCK_N``
panel of b and accumulates their product with ``tl.dot`` (tensor cores) in fp32
registers, ``num_stages`` panels prefetched into shared memory ahead of the dot. Programs
are ordered in groups of ``GROUP_M`` tile-rows so tiles running at the same time share
panels of a and b in L2.

The epilogue is where the fusion pays: the bias (``BLOCK_N`` elements) is added to the
fp32 accumulator, GELU is applied in registers, and the tile is rounded and stored once.
The unfused reference writes the product, reads it back to add the bias, writes that,
and reads it again for the GELU: two extra round trips over the m x n output, which for
an MLP up-projection is bigger than both operands.

GELU is evaluated as ``x * (1 + tanh(z)) / 2`` with ``t = exp(-2|z|)``:
``1 + tanh(z)`` is ``2 / (1 + t)`` for z >= 0 and ``2t / (1 + t)`` for z < 0, which never
overflows and never cancels, whatever the accumulator's magnitude.

fp32 operands use ``input_precision="tf32x3"`` (three TF32 tensor-core products that
recover about fp32 accuracy). ``BLOCK_K`` counts 16-bit elements: fp32 operands take half
as many per step, so one pipeline stage costs the same shared memory in every dtype.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "BLOCK_M": [64, 128],
    "BLOCK_N": [64, 128, 256],
    "BLOCK_K": [32, 64],  # for 16-bit operands; fp32 uses half
    "GROUP_M": [8, 4, 16],  # tile-rows per group in the launch order, for L2 reuse
    "num_warps": [4, 8],
    "num_stages": [3, 4],  # shared-memory pipeline depth along K
}


@triton.jit
def matmul_bias_gelu_kernel(
    a_ptr,
    b_ptr,
    bias_ptr,
    y_ptr,
    M,
    N,
    K,
    stride_am,
    stride_ak,
    stride_bk,
    stride_bn,
    stride_ym,
    stride_yn,
    BLOCK_M: tl.constexpr,  # tile sizes are compile-time so tl.dot maps them onto tensor-core shapes
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    GROUP_M: tl.constexpr,  # compile-time so the tile-order arithmetic folds to shifts
    INPUT_PRECISION: tl.constexpr,  # "tf32x3" for fp32 operands; ignored for 16-bit ones
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
    # their results are dropped by the store mask. Row offsets are int64: m * k can pass 2^31.
    offs_am = ((pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M).to(tl.int64)
    offs_bn = ((pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N).to(tl.int64)
    offs_k = tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, tl.cdiv(K, BLOCK_K)):
        # Per step: (BLOCK_M + BLOCK_N) * BLOCK_K elements read; the K tail is masked to 0.
        k_remaining = K - k * BLOCK_K
        a = tl.load(a_ptrs, mask=offs_k[None, :] < k_remaining, other=0.0)
        b = tl.load(b_ptrs, mask=offs_k[:, None] < k_remaining, other=0.0)
        acc = tl.dot(a, b, acc, input_precision=INPUT_PRECISION)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk

    # Epilogue on the fp32 accumulator. Read BLOCK_N bias elements (shared by every tile in
    # this column of tiles, so mostly from L2).
    offs_ym = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)).to(tl.int64)
    offs_yn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    n_mask = offs_yn < N
    bias = tl.load(bias_ptr + offs_yn, mask=n_mask, other=0.0).to(tl.float32)
    x = acc + bias[None, :]
    z = 0.7978845608028654 * (x + 0.044715 * x * x * x)  # sqrt(2/pi) * (x + 0.044715 x^3)
    t = tl.exp(-2.0 * tl.abs(z))
    out = x * tl.where(z >= 0, 1.0, t) / (1.0 + t)

    # Write the tile once: BLOCK_M * BLOCK_N elements, rounded once to the output dtype.
    y_ptrs = y_ptr + offs_ym[:, None] * stride_ym + offs_yn[None, :] * stride_yn
    y_mask = (offs_ym[:, None] < M) & n_mask[None, :]
    tl.store(y_ptrs, out.to(y_ptr.dtype.element_ty), mask=y_mask)


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        M, K = a.shape
        _, N = b.shape
        bias = bias.contiguous()
        y = torch.empty((M, N), dtype=a.dtype, device=a.device)
        is_fp32 = a.dtype == torch.float32
        block_m = CONFIG["BLOCK_M"]  # noqa: F821 - injected by the evaluator
        block_n = CONFIG["BLOCK_N"]  # noqa: F821
        block_k = CONFIG["BLOCK_K"] // 2 if is_fp32 else CONFIG["BLOCK_K"]  # noqa: F821
        grid = (triton.cdiv(M, block_m) * triton.cdiv(N, block_n),)
        matmul_bias_gelu_kernel[grid](
            a,
            b,
            bias,
            y,
            M,
            N,
            K,
            a.stride(0),
            a.stride(1),
            b.stride(0),
            b.stride(1),
            y.stride(0),
            y.stride(1),
            BLOCK_M=block_m,
            BLOCK_N=block_n,
            BLOCK_K=block_k,
            GROUP_M=CONFIG["GROUP_M"],  # noqa: F821
            INPUT_PRECISION="tf32x3" if is_fp32 else "tf32",
            num_warps=CONFIG["num_warps"],  # noqa: F821
            num_stages=CONFIG["num_stages"],  # noqa: F821
        )
        return y
