# expect: rejected
# Protocol 7: a "Triton" candidate must really launch a Triton kernel.
import torch
import triton
import triton.language as tl


@triton.jit
def unused_kernel(x_ptr, n, BLOCK: tl.constexpr):
    pass


class ModelNew(torch.nn.Module):
    def forward(self, x):
        return torch.softmax(x, dim=-1)
