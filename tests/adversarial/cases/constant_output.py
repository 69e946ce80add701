# expect: wrong_output
# Protocol 4: a constant output (here the uniform distribution) is degenerate.
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.full_like(x, 1.0 / x.shape[-1])
