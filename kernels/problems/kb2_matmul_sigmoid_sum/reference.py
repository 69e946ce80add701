"""A KernelBench level-2 block (Matmul_Sigmoid_Sum): ``y = sum_j sigmoid(x @ W^T + b)[:, j]``.

x is [batch_size, in_features]; the ``nn.Linear``'s weight W is [out_features, in_features]
and its bias b is [out_features]; the output is [batch_size, 1], each row's sum of its
sigmoid scores. The default sizes, 7168 -> 256, are the router of DeepSeek-V3, which
scores its 256 experts with a sigmoid per expert (and normalises the chosen experts'
scores by their sum) instead of a softmax.

The reference makes three passes: the GEMM writes a [batch_size, out_features] temporary,
the sigmoid reads it and writes a second one, and the sum reads that. A fused kernel
applies bias and sigmoid to each output tile in registers and reduces it along the row
there, so the [batch_size, out_features] scores are never written at all.

The file follows KernelBench: module-level sizes, ``get_init_inputs()`` returning the
constructor's arguments, ``get_inputs()`` reading the module-level sizes. The weight is
built once per evaluation, so ``in_features`` and ``out_features`` are the same for every
shape, and ``SHAPES`` varies ``batch_size`` only (``--size in_features=...`` changes the
layer for a whole run). Everything is fp32, as in KernelBench.
"""

import torch
import torch.nn as nn

batch_size = 32
in_features = 7168
out_features = 256

SHAPES = [
    {"name": "small", "batch_size": 32, "devices": ["cpu", "cuda"]},
    {"name": "ragged", "batch_size": 77, "devices": ["cpu", "cuda"]},
    {"name": "deepseek_v3_router_4k_tokens", "batch_size": 4096, "devices": ["cuda"]},
    {"name": "deepseek_v3_router_32k_tokens", "batch_size": 32768, "devices": ["cuda"]},
]

# A tiled GEMM sums in a different order than the BLAS (and Triton's fp32 dot uses three
# TF32 products, tf32x3), and the row sums add out_features sigmoids in another order:
# 1e-3 admits both, with room.
TOLERANCES = {"float32": {"atol": 1e-3, "rtol": 1e-3}}


class Model(nn.Module):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear(x)
        x = torch.sigmoid(x)
        return torch.sum(x, dim=1, keepdim=True)


def get_inputs(batch_size: int = batch_size) -> list[torch.Tensor]:
    return [torch.randn(batch_size, in_features)]


def get_init_inputs() -> list:
    return [in_features, out_features]


def flops(sizes: dict) -> float:
    # The GEMM's multiply and add per (row, out, in), plus bias, sigmoid (~4) and sum per score.
    m = sizes.get("batch_size", batch_size)
    return 2.0 * m * in_features * out_features + 6.0 * m * out_features


def bytes_moved(sizes: dict) -> float:
    # The minimum, in fp32: read x, W and b once and write the [batch_size, 1] sums.
    m = sizes.get("batch_size", batch_size)
    return 4.0 * (m * in_features + out_features * in_features + out_features + m)
