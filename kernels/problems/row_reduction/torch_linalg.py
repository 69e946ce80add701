"""Row L2 norm through one fused PyTorch reduction, with a choice of op.

Each choice reads x once in a single reduction kernel, where the reference writes and
re-reads a full-size tensor of squares; what is left (eps and the root) is a pass over
one value per row.

* ``vector_norm``: ``torch.linalg.vector_norm(x, dim=-1, dtype=float32)`` accumulates in
  fp32 whatever the input dtype and returns the fp32 norm n; y = sqrt(n^2 + eps), rounded
  once to the input dtype.
* ``vector_norm_native``: the same op in the input dtype (the norm is rounded to it
  before eps is added): one fewer conversion, a little less accurate for bf16.
* ``vecdot``: ``torch.linalg.vecdot(x, x, dim=-1)``, the row sum of squares as one op;
  y = sqrt(sum + eps) without squaring a root back.
"""

import torch

CONFIG_SPACE = {
    "impl": ["vector_norm", "vector_norm_native", "vecdot"],
}


class ModelNew(torch.nn.Module):
    def __init__(self, eps: float = 1e-6) -> None:
        super().__init__()
        self.eps = eps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        impl = CONFIG["impl"]  # noqa: F821 - injected by the evaluator
        if impl == "vecdot":
            total = torch.linalg.vecdot(x, x, dim=-1).float()
        else:
            dtype = torch.float32 if impl == "vector_norm" else None
            total = torch.linalg.vector_norm(x, dim=-1, dtype=dtype).float().square_()
        return total.add_(self.eps).sqrt_().to(x.dtype)
