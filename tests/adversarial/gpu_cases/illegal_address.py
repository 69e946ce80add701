# expect: crashed
# A store far outside any allocation corrupts the CUDA context: crashed, and only this process dies.
import torch
import triton
import triton.language as tl


@triton.jit
def wild_store(out_ptr, n, far, BLOCK: tl.constexpr):
    offs = tl.arange(0, BLOCK) + far  # far is 2**40: an int64 argument, so the address is 4 TiB away
    tl.store(out_ptr + offs, tl.zeros([BLOCK], dtype=tl.float32))


class ModelNew(torch.nn.Module):
    def forward(self, x):
        out = torch.softmax(x, dim=-1)
        wild_store[(1,)](out, out.numel(), 1 << 40, BLOCK=128)
        torch.cuda.synchronize()
        return out
