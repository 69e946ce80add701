"""Bias + GELU through PyTorch's fused GELU kernel, optionally in place and in row chunks.

``functional`` adds the bias (one pass) and calls ``F.gelu(approximate="tanh")``, one
fused pass, where the reference makes about eight. ``inplace`` applies ``gelu_`` to the
buffer that already holds ``x + bias``, so only one full-size tensor is ever allocated.
Chunking rows keeps the bias-added chunk in cache for the GELU pass on large inputs.
"""

import torch
import torch.nn.functional as F

CONFIG_SPACE = {
    "impl": ["functional", "inplace"],
    "chunk_rows": [0, 64, 1024, 8192],  # 0: whole tensor at once; otherwise rows per chunk
}


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def _bias_gelu(self, x: torch.Tensor, bias: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        if CONFIG["impl"] == "functional":  # noqa: F821 - injected by the evaluator
            return out.copy_(F.gelu(x + bias, approximate="tanh"))
        torch.add(x, bias, out=out)
        return torch.ops.aten.gelu_(out, approximate="tanh")

    def forward(self, x: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        chunk = CONFIG["chunk_rows"]  # noqa: F821
        if CONFIG["impl"] == "functional" and (chunk == 0 or x.shape[0] <= chunk):  # noqa: F821
            return F.gelu(x + bias, approximate="tanh")
        out = torch.empty_like(x)
        step = chunk if chunk else x.shape[0]
        for start in range(0, x.shape[0], step):
            self._bias_gelu(x[start : start + step], bias, out[start : start + step])
        return out
