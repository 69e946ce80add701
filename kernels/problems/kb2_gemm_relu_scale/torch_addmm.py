"""Linear + ReLU + scale through one BLAS call and in-place epilogues, with no temporaries.

The reference's GEMM writes y, then ReLU and the scale each read a full-size tensor and
write a new one. Here the GEMM (bias folded in by ``addmm``) writes the output buffer and
the epilogue runs in place on it:

* ``addmm_inplace``: ``torch.addmm(b, x, W^T)``, then ``relu_()`` and ``mul_(scale)``,
  two in-place passes and no temporary;
* ``fold_scale``: for ``scale >= 0``, ``relu(z) * s = relu(s * z)``, so the scale rides
  in the GEMM as ``addmm(b, x, W^T, beta=s, alpha=s)`` and only ``relu_()`` is left, one
  elementwise pass (a negative scale falls back to ``addmm_inplace``);
* ``linear_inplace``: ``F.linear`` (the reference's own GEMM call), then the in-place
  ``relu_()`` and ``mul_(scale)``.

``W^T`` is a transposed view, never a copy: the BLAS reads W in its stored layout.
"""

import torch
import torch.nn as nn
import torch.nn.functional as F

CONFIG_SPACE = {
    "impl": ["addmm_inplace", "fold_scale", "linear_inplace"],
}


class ModelNew(nn.Module):
    def __init__(self, in_features: int, out_features: int, scale: float) -> None:
        super().__init__()
        # Built first and the same way as the reference's, so the same seed gives the same W and b.
        self.linear = nn.Linear(in_features, out_features)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        impl = CONFIG["impl"]  # noqa: F821 - injected by the evaluator
        weight, bias = self.linear.weight, self.linear.bias
        if impl == "linear_inplace":
            return F.linear(x, weight, bias).relu_().mul_(self.scale)
        if impl == "fold_scale" and self.scale >= 0:
            return torch.addmm(bias, x, weight.t(), beta=self.scale, alpha=self.scale).relu_()
        return torch.addmm(bias, x, weight.t()).relu_().mul_(self.scale)
