# expect: rejected
# Protocol 6 and anti-cheat: replacing the harness's clock through an alias the static gate cannot see.
import time

import torch

clock = time
clock.perf_counter_ns = lambda: 0


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
