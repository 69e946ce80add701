# expect: timeout
# Protocol 1: a call that never returns is stopped at the stage limit.
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        while True:
            x = x + 0
