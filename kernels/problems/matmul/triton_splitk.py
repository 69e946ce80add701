"""Split-K matrix multiply in Triton: more programs for shapes with few output tiles and a long K.

When m and n are small next to k (say 1024 x 1024 with k = 32768) there are too few
``BLOCK_M x BLOCK_N`` output tiles to fill the GPU. Split-K also cuts K into ``SPLIT_K``
slices: program (i, j, s) multiplies tile (i, j) over slice s only and writes its fp32
partial product to a workspace of ``SPLIT_K * m * n`` floats. A second, elementwise
kernel sums the ``SPLIT_K`` partials of each element in a fixed order (deterministic,
unlike atomics) and rounds once to the output dtype.

The price is the workspace round trip, ``2 * SPLIT_K * m * n * 4`` bytes, which is small
when k is much larger than ``SPLIT_K``. fp32 operands use ``input_precision="tf32x3"``,
and ``BLOCK_K`` counts 16-bit elements (fp32 takes half), as in ``triton_tiled``.
"""

import torch
import triton
import triton.language as tl

CONFIG_SPACE = {
    "SPLIT_K": [2, 4, 8, 16],  # K slices, each its own program
    "BLOCK_MN": [64, 128],  # square output tile: BLOCK_M = BLOCK_N
    "num_warps": [4, 8],
    "num_stages": [3, 4],  # shared-memory pipeline depth along K
}

BLOCK_K_16BIT = 64  # K step for 16-bit operands; fp32 uses half
REDUCE_BLOCK = 1024  # elements per program in the reduction kernel


@triton.jit
def matmul_splitk_kernel(
    a_ptr,
    b_ptr,
    ws_ptr,
    M,
    N,
    K,
    k_per_split,
    stride_am,
    stride_ak,
    stride_bk,
    stride_bn,
    BLOCK_M: tl.constexpr,  # tile sizes are compile-time so tl.dot maps them onto tensor-core shapes
    BLOCK_N: tl.constexpr,
    BLOCK_K: tl.constexpr,
    INPUT_PRECISION: tl.constexpr,  # "tf32x3" for fp32 operands; ignored for 16-bit ones
):
    pid_m = tl.program_id(0)
    pid_n = tl.program_id(1)
    pid_k = tl.program_id(2)
    # Edge rows and columns wrap (modulo) so loads stay in bounds; the store mask drops them.
    offs_am = (pid_m * BLOCK_M + tl.arange(0, BLOCK_M)) % M
    offs_bn = (pid_n * BLOCK_N + tl.arange(0, BLOCK_N)) % N
    k_start = pid_k * k_per_split
    offs_k = k_start + tl.arange(0, BLOCK_K)
    a_ptrs = a_ptr + offs_am[:, None] * stride_am + offs_k[None, :] * stride_ak
    b_ptrs = b_ptr + offs_k[:, None] * stride_bk + offs_bn[None, :] * stride_bn

    acc = tl.zeros((BLOCK_M, BLOCK_N), dtype=tl.float32)
    for k in range(0, k_per_split, BLOCK_K):
        # Per step: (BLOCK_M + BLOCK_N) * BLOCK_K elements read; past K (the last slice) reads 0.
        k_mask = offs_k + k < K
        a = tl.load(a_ptrs, mask=k_mask[None, :], other=0.0)
        b = tl.load(b_ptrs, mask=k_mask[:, None], other=0.0)
        acc = tl.dot(a, b, acc, input_precision=INPUT_PRECISION)
        a_ptrs += BLOCK_K * stride_ak
        b_ptrs += BLOCK_K * stride_bk

    # Write the fp32 partial tile: BLOCK_M * BLOCK_N * 4 bytes into workspace slice pid_k.
    offs_cm = pid_m * BLOCK_M + tl.arange(0, BLOCK_M)
    offs_cn = pid_n * BLOCK_N + tl.arange(0, BLOCK_N)
    ws_ptrs = ws_ptr + pid_k.to(tl.int64) * M * N + offs_cm[:, None] * N + offs_cn[None, :]
    tl.store(ws_ptrs, acc, mask=(offs_cm[:, None] < M) & (offs_cn[None, :] < N))


@triton.jit
def splitk_reduce_kernel(
    c_ptr,
    ws_ptr,
    n_elements,
    SPLIT_K: tl.constexpr,  # compile-time so the sum over slices unrolls in a fixed order
    BLOCK: tl.constexpr,  # elements per program; tl.arange needs a compile-time power of two
):
    offs = tl.program_id(0).to(tl.int64) * BLOCK + tl.arange(0, BLOCK)
    mask = offs < n_elements
    # Read SPLIT_K * BLOCK * 4 bytes of partials, write BLOCK output elements.
    acc = tl.zeros([BLOCK], dtype=tl.float32)
    ptrs = ws_ptr + offs
    for _ in tl.static_range(SPLIT_K):
        acc += tl.load(ptrs, mask=mask, other=0.0)
        ptrs += n_elements  # next slice; stepping the pointer never forms s * n_elements in int32
    tl.store(c_ptr + offs, acc.to(c_ptr.dtype.element_ty), mask=mask)


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        M, K = a.shape
        _, N = b.shape
        split_k = CONFIG["SPLIT_K"]  # noqa: F821 - injected by the evaluator
        block = CONFIG["BLOCK_MN"]  # noqa: F821
        is_fp32 = a.dtype == torch.float32
        block_k = BLOCK_K_16BIT // 2 if is_fp32 else BLOCK_K_16BIT
        # Each slice is a whole number of K steps, so only the last slice needs a mask. Rounding
        # up can leave trailing slices empty (short K); those are not launched.
        k_per_split = triton.cdiv(triton.cdiv(K, split_k), block_k) * block_k
        split_k = triton.cdiv(K, k_per_split)
        workspace = torch.empty((split_k, M, N), dtype=torch.float32, device=a.device)
        grid = (triton.cdiv(M, block), triton.cdiv(N, block), split_k)
        matmul_splitk_kernel[grid](
            a,
            b,
            workspace,
            M,
            N,
            K,
            k_per_split,
            a.stride(0),
            a.stride(1),
            b.stride(0),
            b.stride(1),
            BLOCK_M=block,
            BLOCK_N=block,
            BLOCK_K=block_k,
            INPUT_PRECISION="tf32x3" if is_fp32 else "tf32",
            num_warps=CONFIG["num_warps"],  # noqa: F821
            num_stages=CONFIG["num_stages"],  # noqa: F821
        )
        c = torch.empty((M, N), dtype=a.dtype, device=a.device)
        n_elements = M * N
        splitk_reduce_kernel[(triton.cdiv(n_elements, REDUCE_BLOCK),)](
            c, workspace, n_elements, SPLIT_K=split_k, BLOCK=REDUCE_BLOCK, num_warps=4
        )
        return c
