"""A problem whose second shape has a 512 MB fp32 input and output on the CPU too.

Where the evaluator's cost on softmax's large GPU shapes is in its tensor files and comparisons,
this reproduces it on a machine without a GPU (``benchmarks/gpu_stage_times.py --device cpu``).
"""

import torch

SHAPES = [{"name": "small", "n": 256, "m": 256}, {"name": "bulk", "n": 65536, "m": 2048}]


class Model(torch.nn.Module):
    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.relu(x)


def get_inputs(n: int = 256, m: int = 256) -> list[torch.Tensor]:
    return [torch.randn(n, m)]


def get_init_inputs() -> list:
    return []
