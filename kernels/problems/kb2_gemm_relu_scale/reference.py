"""A KernelBench level-2 block: ``y = relu(x @ W^T + b) * scale`` with W, b from an ``nn.Linear``.

x is [batch_size, in_features]; the linear layer's weight W is [out_features, in_features]
and its bias b is [out_features]. Linear + ReLU is the first half of the feed-forward
block of ReLU transformers; the default sizes, 512 -> 2048, are the original
Transformer's (base model, Vaswani et al. 2017), whose training batches held about 25000
tokens. The constant scale is KernelBench's addition, standing in for a folded
normalisation.

The reference makes three passes: the GEMM writes a [batch_size, out_features] temporary,
ReLU reads it and writes a second one, and the scale reads that and writes y. A fused
kernel applies bias, ReLU and scale to each output tile while it is still in registers,
so the output is written once and never read back.

The file follows KernelBench: module-level sizes, ``get_init_inputs()`` returning the
constructor's arguments, ``get_inputs()`` reading the module-level sizes. The weight is
built once per evaluation, so ``in_features`` and ``out_features`` are the same for every
shape, and ``SHAPES`` varies ``batch_size`` only (``--size in_features=...`` changes the
layer for a whole run). Everything is fp32, as in KernelBench.
"""

import torch
import torch.nn as nn

batch_size = 32
in_features = 512
out_features = 2048
scale = 0.5

SHAPES = [
    {"name": "small", "batch_size": 32, "devices": ["cpu", "cuda"]},
    {"name": "ragged", "batch_size": 77, "devices": ["cpu", "cuda"]},
    {"name": "transformer_base_4k_tokens", "batch_size": 4096, "devices": ["cuda"]},
    {"name": "transformer_base_25k_tokens", "batch_size": 25000, "devices": ["cuda"]},
]

# A tiled GEMM sums in a different order than the BLAS (and Triton's fp32 dot uses three
# TF32 products, tf32x3): 1e-3 admits that reordering over in_features terms, with room.
TOLERANCES = {"float32": {"atol": 1e-3, "rtol": 1e-3}}


class Model(nn.Module):
    def __init__(self, in_features: int, out_features: int, scale: float) -> None:
        super().__init__()
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.linear(x)
        x = torch.relu(x)
        return x * self.scale


def get_inputs(batch_size: int = batch_size) -> list[torch.Tensor]:
    return [torch.randn(batch_size, in_features)]


def get_init_inputs() -> list:
    return [in_features, out_features, scale]


def flops(sizes: dict) -> float:
    # The GEMM's multiply and add per (row, out, in), plus bias, ReLU and scale per output.
    m = sizes.get("batch_size", batch_size)
    return 2.0 * m * in_features * out_features + 3.0 * m * out_features


def bytes_moved(sizes: dict) -> float:
    # The minimum, in fp32: read x, W and b once and write y once.
    m = sizes.get("batch_size", batch_size)
    return 4.0 * (m * in_features + out_features * in_features + out_features + m * out_features)
