# expect: ok
# Honest: a scratch buffer per input address, slow to set up once and then reused. The calls on
# never-seen inputs refill buffers the timed calls used, so this is not mistaken for a cache. The key
# holds the shape and dtype too: an address freed by one shape's inputs can come back for another's.
import torch


class ModelNew(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.scratch = {}

    def forward(self, x):
        key = (x.data_ptr(), x.shape, x.dtype)
        if key not in self.scratch:
            self.scratch[key] = torch.empty_like(x)
            sum(range(300000))  # a one-off set-up that costs milliseconds
        out = self.scratch[key]
        out.copy_(torch.softmax(x, dim=-1))
        return out.clone()
