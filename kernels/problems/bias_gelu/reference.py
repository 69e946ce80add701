"""Bias add followed by GELU (tanh approximation), written as a user would first write it.

``y = x + bias``, then ``gelu(y) = 0.5 * y * (1 + tanh(sqrt(2/pi) * (y + 0.044715 * y^3)))``,
the tanh approximation used by GPT-2 and BERT (PyTorch's ``gelu(approximate="tanh")``).
This is the epilogue of a transformer MLP's first projection: x is [tokens, features] and
the bias is a 1-D forward input drawn at random.

The reference makes nine elementwise passes, each reading and writing a full-size
temporary. A fused kernel reads x once, the bias once, and writes y once.
"""

import math

import torch

SHAPES = [
    {"name": "small", "rows": 64, "cols": 512, "devices": ["cpu", "cuda"]},
    {"name": "ragged", "rows": 96, "cols": 1000, "devices": ["cpu", "cuda"]},
    {"name": "gpt3_6b_mlp", "rows": 8192, "cols": 16384, "devices": ["cuda"]},
    {"name": "bert_large_mlp", "rows": 32768, "cols": 4096, "devices": ["cuda"]},
]

SQRT_2_OVER_PI = math.sqrt(2.0 / math.pi)


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        y = x + bias
        inner = SQRT_2_OVER_PI * (y + 0.044715 * torch.pow(y, 3))
        return 0.5 * y * (1.0 + torch.tanh(inner))


def get_inputs(rows: int = 64, cols: int = 512) -> list[torch.Tensor]:
    x = torch.randn(rows, cols, dtype=torch.float32)
    bias = torch.randn(cols, dtype=torch.float32)
    return [x, bias]


def get_init_inputs() -> list:
    return []


def flops(sizes: dict) -> float:
    # add, cube, multiply-add, scale, tanh, add, two multiplies: about ten operations per element.
    return 10.0 * sizes.get("rows", 64) * sizes.get("cols", 512)


def bytes_moved(sizes: dict) -> float:
    # The minimum: read x and write y once, plus one read of the bias, in fp32.
    rows, cols = sizes.get("rows", 64), sizes.get("cols", 512)
    return 4.0 * (2 * rows * cols + cols)
