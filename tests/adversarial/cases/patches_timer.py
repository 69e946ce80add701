# expect: rejected
# Protocol 7: monkey-patching the clock to fake a speedup.
import time

import torch

time.perf_counter_ns = lambda: 0


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
