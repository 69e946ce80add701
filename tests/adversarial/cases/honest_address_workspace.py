# expect: ok
# Honest: a scratch buffer per input address, slow to set up once and then reused. The calls on
# never-seen inputs refill buffers the timed calls used, so this is not mistaken for a cache.
import torch


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scratch = {}

    def forward(self, x):
        if x.data_ptr() not in self.scratch:
            self.scratch[x.data_ptr()] = torch.empty_like(x)
            sum(range(300000))  # a one-off set-up that costs milliseconds
        out = self.scratch[x.data_ptr()]
        out.copy_(torch.softmax(x, dim=-1))
        return out.clone()
