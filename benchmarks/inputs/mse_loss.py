"""A KernelBench-style loss, as such files come: module-level sizes, no metadata, a scalar output.

Its inputs are GPU-sized; run it on a CPU with ``--size batch_size=64``.
"""

import torch
import torch.nn as nn


class Model(nn.Module):
    """The mean squared error of predictions against targets."""

    def __init__(self):
        super().__init__()

    def forward(self, predictions, targets):
        return torch.mean((predictions - targets) ** 2)


batch_size = 32768
input_shape = (32768,)
dim = 1


def get_inputs():
    return [torch.randn(batch_size, *input_shape), torch.randn(batch_size, *input_shape)]


def get_init_inputs():
    return []
