# expect: wrong_output
# Anti-cheat: caches results by input address; timed inputs keep their address but change values.
import torch


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.cache = {}

    def forward(self, x):
        key = (x.data_ptr(), tuple(x.shape))
        if key not in self.cache:
            self.cache[key] = torch.softmax(x, dim=-1)
        return self.cache[key]
