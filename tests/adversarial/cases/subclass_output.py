# expect: rejected
# Protocol 4: outputs must be plain tensors, not subclasses that could lie in comparisons.
import torch


class Sneaky(torch.Tensor):
    pass


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1).as_subclass(Sneaky)
