# expect: timeout
# Protocol 1: module code that never finishes is stopped at the load limit.
import torch

while True:
    pass


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
