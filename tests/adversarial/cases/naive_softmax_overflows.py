# expect: wrong_output
# Protocol 3: the heavy-tailed trial catches a softmax that skips the max subtraction.
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        e = torch.exp(x)
        return e / e.sum(dim=-1, keepdim=True)
