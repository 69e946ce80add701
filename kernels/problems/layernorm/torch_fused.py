"""LayerNorm through PyTorch's fused kernels, optionally in row chunks.

``functional`` calls ``torch.nn.functional.layer_norm``: one kernel that reads x once and
writes y once. ``var_mean`` computes the statistics with the single-pass
``torch.var_mean`` and applies the normalisation and the affine step in place on the
output buffer, where the reference allocates four full-size temporaries besides it.
Chunking rows keeps each working set inside the cache on large inputs.
"""

import torch
import torch.nn.functional as F

CONFIG_SPACE = {
    "impl": ["functional", "var_mean"],
    "chunk_rows": [0, 32, 1024, 8192],  # 0: whole tensor at once; otherwise rows per chunk
}


class ModelNew(torch.nn.Module):
    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def _norm(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor, out: torch.Tensor) -> None:
        if CONFIG["impl"] == "functional":  # noqa: F821 - injected by the evaluator
            out.copy_(F.layer_norm(x, (x.shape[-1],), weight, bias, self.eps))
            return
        var, mean = torch.var_mean(x, dim=-1, keepdim=True, correction=0)
        torch.sub(x, mean, out=out)
        out.mul_(var.add_(self.eps).rsqrt_()).mul_(weight).add_(bias)

    def forward(self, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
        chunk = CONFIG["chunk_rows"]  # noqa: F821
        if CONFIG["impl"] == "functional" and (chunk == 0 or x.shape[0] <= chunk):  # noqa: F821
            return F.layer_norm(x, (x.shape[-1],), weight, bias, self.eps)
        out = torch.empty_like(x)
        step = chunk if chunk else x.shape[0]
        for start in range(0, x.shape[0], step):
            self._norm(x[start : start + step], weight, bias, out[start : start + step])
        return out
