"""Causal attention through ``F.scaled_dot_product_attention(is_causal=True)``.

One call replaces the reference's five full passes over the seq x seq scores. With the
``default`` backend PyTorch picks the fastest kernel it has for the inputs: on a GPU that
is FlashAttention-2 (or cuDNN / memory-efficient attention), which never materializes the
score matrix and skips the masked half; on the CPU it is a blocked flash kernel.

``backend`` pins one kernel through ``torch.nn.attention.sdpa_kernel``:

* ``flash``: FlashAttention-2 (fp16/bf16 on the GPU; the blocked kernel on the CPU);
* ``efficient``: the memory-efficient (xFormers-style) kernel, which also takes fp32;
* ``cudnn``: cuDNN's fused attention (Hopper has its own code path);
* ``math``: the composite reference path, materializing the scores (upcast to fp32 for
  16-bit inputs unless reduced-precision math SDPA is allowed): a baseline, not a speedup.

The math backend is always allowed as a fallback, so a pinned kernel that cannot take
these inputs (fp32 for flash on the GPU, say, or cuDNN on the CPU) runs the math path
instead of failing.
"""

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

CONFIG_SPACE = {
    "backend": ["default", "flash", "efficient", "cudnn", "math"],
}

BACKENDS = {
    "flash": SDPBackend.FLASH_ATTENTION,
    "efficient": SDPBackend.EFFICIENT_ATTENTION,
    "cudnn": SDPBackend.CUDNN_ATTENTION,
    "math": SDPBackend.MATH,
}


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def forward(self, q: torch.Tensor, k: torch.Tensor, v: torch.Tensor) -> torch.Tensor:
        backend = CONFIG["backend"]  # noqa: F821 - injected by the evaluator
        if backend == "default":
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
        # The chosen kernel first; math as the fallback for inputs the chosen one cannot take.
        with sdpa_kernel([BACKENDS[backend], SDPBackend.MATH], set_priority=True):
            return F.scaled_dot_product_attention(q, k, v, is_causal=True)
