"""LayerNorm over the last dimension of a 2-D input, written as a user would first write it.

``y = (x - mean) / sqrt(var + eps) * weight + bias``, with the biased variance, as in
``torch.nn.LayerNorm``. The weight and bias are forward inputs drawn at random, so a
kernel that ignores them, or assumes ones and zeros, fails.

The reference takes separate passes for the mean, the centred values, their square, the
variance, the normalisation and the affine step, each one a round trip through memory.
A fused kernel reads the row once and writes it once.
"""

import torch

SHAPES = [
    {"name": "small", "rows": 64, "cols": 512, "devices": ["cpu", "cuda"]},
    {"name": "ragged", "rows": 96, "cols": 1000, "devices": ["cpu", "cuda"]},
    {"name": "llama_7b", "rows": 16384, "cols": 4096, "devices": ["cuda"]},
    {"name": "llama_70b", "rows": 8192, "cols": 8192, "devices": ["cuda"]},
    {"name": "bert_base", "rows": 65536, "cols": 768, "devices": ["cuda"]},
]


class Model(torch.nn.Module):
    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        mean = x.mean(dim=-1, keepdim=True)
        centered = x - mean
        var = (centered * centered).mean(dim=-1, keepdim=True)
        normalized = centered / torch.sqrt(var + self.eps)
        return normalized * weight + bias


def get_inputs(rows: int = 64, cols: int = 512) -> list[torch.Tensor]:
    x = torch.randn(rows, cols, dtype=torch.float32)
    weight = torch.randn(cols, dtype=torch.float32)
    bias = torch.randn(cols, dtype=torch.float32)
    return [x, weight, bias]


def get_init_inputs() -> list:
    return [1e-5]


def flops(sizes: dict) -> float:
    # sum, subtract, square, sum, scale, multiply, add: about eight operations per element.
    return 8.0 * sizes.get("rows", 64) * sizes.get("cols", 512)


def bytes_moved(sizes: dict) -> float:
    # The minimum: read x and write y once, plus one read of weight and bias, in fp32.
    rows, cols = sizes.get("rows", 64), sizes.get("cols", 512)
    return 4.0 * (2 * rows * cols + 2 * cols)
