"""Row-wise softmax over the last dimension of a 2-D tensor, written as a user would first write it.

The reference is the unfused composition (max, subtract, exp, sum, divide): five passes
over memory and four temporaries. A fused kernel reads the row once and writes it once.
"""

import torch

SHAPES = [
    {"name": "small", "rows": 64, "cols": 512, "devices": ["cpu", "cuda"]},
    {"name": "wide", "rows": 128, "cols": 2048, "devices": ["cpu", "cuda"]},
    {"name": "llm_vocab", "rows": 4096, "cols": 32768, "devices": ["cuda"]},
    {"name": "attention", "rows": 65536, "cols": 1024, "devices": ["cuda"]},
]

TOLERANCES = {"float32": {"atol": 1e-5, "rtol": 1e-4}}


class Model(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        row_max = x.max(dim=-1, keepdim=True).values
        shifted = x - row_max
        numerator = torch.exp(shifted)
        denominator = numerator.sum(dim=-1, keepdim=True)
        return numerator / denominator


def get_inputs(rows: int = 64, cols: int = 512) -> list[torch.Tensor]:
    return [torch.randn(rows, cols, dtype=torch.float32)]


def get_init_inputs() -> list:
    return []


def flops(sizes: dict) -> float:
    # max, subtract, exp, sum, divide: about five operations per element.
    return 5.0 * sizes.get("rows", 64) * sizes.get("cols", 512)


def bytes_moved(sizes: dict) -> float:
    # The minimum: read the input once and write the output once, in fp32.
    return 2.0 * 4 * sizes.get("rows", 64) * sizes.get("cols", 512)
