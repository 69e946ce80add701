"""Linear + sigmoid + row sum through one BLAS call, an in-place sigmoid and one reduction.

The reference's GEMM writes the scores, the sigmoid writes a second full-size tensor and
the sum reads it. Here ``torch.addmm(b, x, W^T)`` writes the scores (bias folded into the
GEMM), the sigmoid runs in place on them, and then the row sums are taken:

* ``sum``: ``scores.sigmoid_().sum(dim=1, keepdim=True)``, the reduction kernel;
* ``mv``: ``scores.sigmoid_() @ ones``, the row sum as a BLAS matrix-vector product;
* ``linear``: the reference's ``F.linear`` and ``torch.sigmoid`` (one temporary), then
  the sum, as a baseline for the in-place forms.

``W^T`` is a transposed view, never a copy: the BLAS reads W in its stored layout.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG_SPACE = {
    "impl": ["sum", "mv", "linear"],
}


class ModelNew(nn.Module):
    def __init__(self, in_features: int, out_features: int) -> None:
        super().__init__()
        # Built first and the same way as the reference's, so the same seed gives the same W and b.
        self.linear = nn.Linear(in_features, out_features)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        impl = CONFIG["impl"]  # noqa: F821 - injected by the evaluator
        weight, bias = self.linear.weight, self.linear.bias
        if impl == "linear":
            return torch.sigmoid(F.linear(x, weight, bias)).sum(dim=1, keepdim=True)
        scores = torch.addmm(bias, x, weight.t()).sigmoid_()
        if impl == "mv":
            ones = torch.ones(scores.shape[1], dtype=scores.dtype, device=scores.device)
            return torch.mv(scores, ones).unsqueeze(1)
        return scores.sum(dim=1, keepdim=True)
