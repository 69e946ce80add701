"""RMSNorm over the last dimension of a 2-D input, written as a user would first write it.

``y = x * rsqrt(mean(x^2) + eps) * weight``, as in LLaMA-style models. The weight is a
forward input drawn at random, so a kernel that ignores it fails.

The reference squares, averages, adds eps, takes the reciprocal square root, and
multiplies twice, each as its own pass over memory with its own temporary. A fused
kernel reads x once and writes y once.
"""

import torch

SHAPES = [
    {"name": "small", "rows": 64, "cols": 512, "devices": ["cpu", "cuda"]},
    {"name": "ragged", "rows": 96, "cols": 1000, "devices": ["cpu", "cuda"]},
    {"name": "llama_7b", "rows": 16384, "cols": 4096, "devices": ["cuda"]},
    {"name": "llama_70b", "rows": 8192, "cols": 8192, "devices": ["cuda"]},
]


class Model(torch.nn.Module):
    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        mean_square = x.pow(2).mean(dim=-1, keepdim=True)
        return x * torch.rsqrt(mean_square + self.eps) * weight


def get_inputs(rows: int = 64, cols: int = 512) -> list[torch.Tensor]:
    x = torch.randn(rows, cols, dtype=torch.float32)
    weight = torch.randn(cols, dtype=torch.float32)
    return [x, weight]


def get_init_inputs() -> list:
    return [1e-6]


def flops(sizes: dict) -> float:
    # square, sum, scale, multiply by rstd, multiply by weight: about five operations per element.
    return 5.0 * sizes.get("rows", 64) * sizes.get("cols", 512)


def bytes_moved(sizes: dict) -> float:
    # The minimum: read x and write y once, plus one read of the weight, in fp32.
    rows, cols = sizes.get("rows", 64), sizes.get("cols", 512)
    return 4.0 * (2 * rows * cols + cols)
