"""Residual add + LayerNorm through PyTorch's fused kernels, optionally in place and in row chunks.

``functional`` forms the sum with ``torch.add`` (one pass: reads x and residual, writes
the sum) and calls ``torch.nn.functional.layer_norm``, one fused kernel that reads the
sum once and writes y once, computing in fp32 for fp16/bf16 inputs. Two kernels and one
temporary, where the reference makes up to ten passes.

``inplace`` writes the sum straight into the output buffer and normalises it there: the
statistics come from the single-pass ``torch.var_mean``, the centring and scaling are one
``addcmul`` (``s * rstd - mean * rstd``, with rstd and the shift in fp32) and the affine
step is another, each written back in place. No full-size temporary besides y.

Chunking rows keeps each chunk's sum in L2 between the add and the normalisation on large
inputs; with ``inplace`` every chunk is written straight into its slice of y.
"""

import torch
import torch.nn.functional as F

CONFIG_SPACE = {
    "impl": ["functional", "inplace"],
    "chunk_rows": [0, 32, 1024, 8192],  # 0: whole tensor at once; otherwise rows per chunk
}


class ModelNew(torch.nn.Module):
    def __init__(self, eps: float = 1e-5) -> None:
        super().__init__()
        self.eps = eps

    def _inplace(
        self,
        x: torch.Tensor,
        residual: torch.Tensor,
        weight: torch.Tensor,
        bias: torch.Tensor,
        out: torch.Tensor,
    ) -> None:
        s = torch.add(x, residual, out=out)  # the residual stream, rounded to the input dtype
        var, mean = torch.var_mean(s, dim=-1, keepdim=True, correction=0)
        rstd = var.float().add_(self.eps).rsqrt_()
        shift = mean.float().mul_(rstd).neg_()
        torch.addcmul(shift, s, rstd, out=s)  # (s - mean) * rstd, one rounding
        torch.addcmul(bias, s, weight, out=s)

    def forward(
        self, x: torch.Tensor, residual: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor
    ) -> torch.Tensor:
        chunk = CONFIG["chunk_rows"]  # noqa: F821 - injected by the evaluator
        functional = CONFIG["impl"] == "functional"  # noqa: F821
        shape = (x.shape[-1],)
        if functional and (chunk == 0 or x.shape[0] <= chunk):
            return F.layer_norm(torch.add(x, residual), shape, weight, bias, self.eps)
        out = torch.empty_like(x)
        step = chunk if chunk else x.shape[0]
        for start in range(0, x.shape[0], step):
            rows = slice(start, start + step)
            if functional:
                out[rows] = F.layer_norm(torch.add(x[rows], residual[rows]), shape, weight, bias, self.eps)
            else:
                self._inplace(x[rows], residual[rows], weight, bias, out[rows])
        return out
