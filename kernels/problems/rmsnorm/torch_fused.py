"""RMSNorm through PyTorch's own kernels, optionally in row chunks.

``rms_norm`` calls ``torch.nn.functional.rms_norm``, PyTorch's RMSNorm (fused on recent
CUDA builds). ``vector_norm`` takes each row's L2 norm with ``torch.linalg.vector_norm``
(one reduction, no x^2 temporary), turns it into ``rsqrt(norm^2 / cols + eps)`` on the
tiny per-row vector, and applies both multiplications in place on the output buffer,
where the reference allocates two full-size temporaries besides the output. Chunking
rows keeps each working set inside the cache on large inputs.
"""

import torch
import torch.nn.functional as F

CONFIG_SPACE = {
    "impl": ["rms_norm", "vector_norm"],
    "chunk_rows": [0, 32, 1024, 8192],  # 0: whole tensor at once; otherwise rows per chunk
}


class ModelNew(torch.nn.Module):
    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def _norm(self, x: torch.Tensor, weight: torch.Tensor, out: torch.Tensor) -> None:
        if CONFIG["impl"] == "rms_norm":  # noqa: F821 - injected by the evaluator
            out.copy_(F.rms_norm(x, (x.shape[-1],), weight, self.eps))
            return
        norm = torch.linalg.vector_norm(x, dim=-1, keepdim=True)
        rstd = norm.square_().div_(x.shape[-1]).add_(self.eps).rsqrt_()
        torch.mul(x, rstd, out=out)
        out.mul_(weight)

    def forward(self, x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
        chunk = CONFIG["chunk_rows"]  # noqa: F821
        if CONFIG["impl"] == "rms_norm" and (chunk == 0 or x.shape[0] <= chunk):  # noqa: F821
            return F.rms_norm(x, (x.shape[-1],), weight, self.eps)
        out = torch.empty_like(x)
        step = chunk if chunk else x.shape[0]
        for start in range(0, x.shape[0], step):
            self._norm(x[start : start + step], weight, out[start : start + step])
        return out
