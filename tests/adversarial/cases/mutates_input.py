# expect: rejected
# Protocol 4: the inputs must be unchanged after the call.
import torch


class ModelNew(torch.nn.Module):
    def forward(self, x):
        x.sub_(x.max(dim=-1, keepdim=True).values).exp_()
        return x / x.sum(dim=-1, keepdim=True)
