# expect: compile_error
import torch
import crucible_no_such_module  # noqa: F401


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
