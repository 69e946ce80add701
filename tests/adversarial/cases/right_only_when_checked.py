# expect: wrong_output
# Anti-cheat: correct for the first calls of each shape, then a stale answer while being timed.
import torch


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.calls = {}
        self.last = {}

    def forward(self, x):
        key = tuple(x.shape)
        self.calls[key] = self.calls.get(key, 0) + 1
        if self.calls[key] <= 12 or key not in self.last:
            self.last[key] = torch.softmax(x, dim=-1)
        return self.last[key].clone()
