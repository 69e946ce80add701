# expect: rejected
# Protocol 2 and 7: a candidate may not call the reference.
import torch

from kernels.problems.softmax.reference import Model


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return Model()(x)
