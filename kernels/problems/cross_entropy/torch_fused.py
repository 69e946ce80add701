"""Cross-entropy through PyTorch's fused kernels, optionally in row chunks.

``cross_entropy`` calls ``F.cross_entropy``, which runs a fused log-softmax and a fused
NLL gather-and-reduce. ``logsumexp`` computes ``logsumexp(logits) - logits[target]``
directly, so no [rows, vocab] log-probability tensor is ever written: one read of the
logits and a gather of one element per row.

Chunking processes ``chunk_rows`` rows at a time and sums the per-chunk losses, which
bounds the temporary memory to one chunk of logits on large vocabularies.
"""

import torch
import torch.nn.functional as F

CONFIG_SPACE = {
    "impl": ["cross_entropy", "logsumexp"],
    "chunk_rows": [0, 32, 512, 4096],  # 0: whole tensor at once; otherwise rows per chunk
}


class ModelNew(torch.nn.Module):
    def __init__(self) -> None:
        super().__init__()

    def _loss_sum(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        if CONFIG["impl"] == "cross_entropy":  # noqa: F821 - injected by the evaluator
            return F.cross_entropy(logits, targets, reduction="sum")
        picked = logits.gather(dim=-1, index=targets.unsqueeze(-1)).squeeze(-1)
        return (torch.logsumexp(logits, dim=-1) - picked).sum()

    def forward(self, logits: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        n_rows = logits.shape[0]
        chunk = CONFIG["chunk_rows"]  # noqa: F821
        if chunk == 0 or n_rows <= chunk:
            return self._loss_sum(logits, targets) / n_rows
        total = torch.zeros((), dtype=torch.float32, device=logits.device)
        for start in range(0, n_rows, chunk):
            total += self._loss_sum(logits[start : start + chunk], targets[start : start + chunk])
        return total / n_rows
