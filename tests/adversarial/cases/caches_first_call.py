# expect: wrong_output
# Protocol 3: fresh inputs on every trial defeat a per-shape result cache.
import torch


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cache = {}

    def forward(self, x):
        key = tuple(x.shape)
        if key not in self.cache:
            self.cache[key] = torch.softmax(x, dim=-1)
        return self.cache[key].clone()
